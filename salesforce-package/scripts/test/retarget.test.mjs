// retarget.mjs writes one environment's URLs into a build copy, validates its
// arguments, never touches the sources, and refuses to clobber other folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, retarget } from '../retarget.mjs';
import { PLACEHOLDER_APP_URL } from '../lib/placeholders.mjs';

const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const D = 'force-app/main/default';
const SCRIPT = join(PROJECT, 'scripts', 'retarget.mjs');
// The Dev Hub's OAuth link, as retrieved from ExtlClntAppOauthSettings (org id : consumer id).
const LINK = '00D5g000004XyZaEAK:Qwoty_consumer';

function tempOut() {
    const dir = mkdtempSync(join(tmpdir(), 'qwoty-retarget-'));
    return { dir, out: join(dir, 'package') };
}

test('rejects app URLs that Salesforce cannot use, naming the problem', () => {
    const bad = [
        ['http://quotes.example.com', /must use https/],
        ['https://quotes.example.com/app', /without path/],
        ['https://quotes.example.com?x=1', /without path, query/],
        ['https://quotes.example.com#top', /without path, query or fragment/],
        ['https://user:pw@quotes.example.com', /credentials/],
        ['quotes.example.com', /is not a URL/]
    ];
    for (const [url, message] of bad) {
        assert.throws(() => parseArgs(['--app-url', url, '--out', 'x', '--oauth-link', LINK]), message, url);
    }
    assert.throws(() => parseArgs(['--out', 'x']), /--app-url is required/);
    assert.throws(() => parseArgs(['--app-url', 'https://a.example']), /--out is required/);
    assert.throws(
        () => parseArgs(['--app-url', 'https://a.example', '--out', 'x', '--oauth-link', 'has space']),
        /--oauth-link must look like ORGID:CONSUMERID/
    );
    assert.throws(
        () => parseArgs(['--app-url', 'https://a.example', '--out', 'x', '--dev-hub-only', '--oauth-link', LINK]),
        /pass one or the other/
    );
    assert.throws(
        () => parseArgs(['--app-url', 'https://a.example', '--out', 'x', '--bogus', 'y']),
        /unknown argument/
    );
});

test('a trailing slash is accepted', () => {
    const options = parseArgs(['--app-url', 'https://Quotes.Example.com/', '--out', 'x', '--oauth-link', LINK]);
    assert.equal(options.appUrl, 'https://quotes.example.com');
    assert.equal(options.oauthLink, LINK);
    assert.equal(options.devHubOnly, false);
});

test('a package build without the Dev Hub OAuth link is refused, naming the way to get one', () => {
    assert.throws(
        () => parseArgs(['--app-url', 'https://quotes.example.com', '--out', 'x']),
        /--oauth-link is required: a packaged External Client App must link to the OAuth consumer of the Dev Hub.*--dev-hub-only.*ExtlClntAppOauthSettings:Qwoty_oauth/s
    );
    assert.throws(
        () => retarget({ appUrl: 'https://quotes.example.com', out: join(tmpdir(), 'qwoty-never') }),
        /needs the oauthLink of the Dev Hub/
    );
    assert.ok(!existsSync(join(tmpdir(), 'qwoty-never')));
    const run = spawnSync(
        process.execPath,
        [SCRIPT, '--app-url', 'https://quotes.example.com', '--out', 'build/never'],
        {
            cwd: PROJECT,
            encoding: 'utf8'
        }
    );
    assert.equal(run.status, 1);
    assert.match(run.stderr, /--oauth-link is required/);
    assert.ok(!existsSync(join(PROJECT, 'build', 'never')));
});

test('--dev-hub-only builds the Dev Hub project alone, without a package', () => {
    const { dir, out } = tempOut();
    try {
        const options = parseArgs(['--app-url', 'https://quotes.example.com', '--dev-hub-only', '--out', out]);
        retarget(options);
        assert.ok(existsSync(join(out, `dev-hub/${D}/externalClientApps/Qwoty.eca-meta.xml`)));
        assert.match(
            readFileSync(
                join(out, `dev-hub/${D}/extlClntAppGlobalOauthSets/Qwoty_glbloauth.ecaGlblOauth-meta.xml`),
                'utf8'
            ),
            /<callbackUrl>https:\/\/quotes\.example\.com\/oauth\/salesforce\/callback<\/callbackUrl>/
        );
        assert.doesNotMatch(
            readFileSync(join(out, `dev-hub/${D}/extlClntAppOauthSettings/Qwoty_oauth.ecaOauth-meta.xml`), 'utf8'),
            /oauthLink/
        );
        assert.ok(!existsSync(join(out, 'force-app')), 'no package without the OAuth link');
        assert.ok(!existsSync(join(out, 'sfdx-project.json')));
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});

test('the CLI exits non-zero with a clear message on a bad URL', () => {
    const run = spawnSync(
        process.execPath,
        [SCRIPT, '--app-url', 'http://quotes.example.com', '--oauth-link', LINK, '--out', 'build/never'],
        {
            cwd: PROJECT,
            encoding: 'utf8'
        }
    );
    assert.equal(run.status, 1);
    assert.match(run.stderr, /--app-url must use https/);
    assert.ok(!existsSync(join(PROJECT, 'build', 'never')));
});

test('writes the URL into the named credential, the CSP site and the Dev Hub callback, and the OAuth link', () => {
    const { dir, out } = tempOut();
    const sourcesBefore = readFileSync(join(PROJECT, D, 'namedCredentials/Qwoty_API.namedCredential-meta.xml'), 'utf8');
    try {
        retarget({ appUrl: 'https://quotes.example.com', oauthLink: LINK, out });
        const read = (p) => readFileSync(join(out, p), 'utf8');
        assert.match(
            read(`${D}/namedCredentials/Qwoty_API.namedCredential-meta.xml`),
            /<parameterValue>https:\/\/quotes\.example\.com<\/parameterValue>/
        );
        assert.match(
            read(`${D}/cspTrustedSites/Qwoty_App.cspTrustedSite-meta.xml`),
            /<endpointUrl>https:\/\/quotes\.example\.com<\/endpointUrl>/
        );
        assert.match(
            read(`${D}/extlClntAppOauthSettings/Qwoty_oauth.ecaOauth-meta.xml`),
            /<oauthLink>00D5g000004XyZaEAK:Qwoty_consumer<\/oauthLink>/
        );
        const global = read(`dev-hub/${D}/extlClntAppGlobalOauthSets/Qwoty_glbloauth.ecaGlblOauth-meta.xml`);
        assert.ok(
            existsSync(join(out, `dev-hub/${D}/externalClientApps/Qwoty.eca-meta.xml`)),
            'the Dev Hub project has the app'
        );
        assert.equal(JSON.parse(read('dev-hub/sfdx-project.json')).packageDirectories[0].path, 'force-app');
        assert.doesNotMatch(read('dev-hub/.forceignore'), /extlClntAppGlobalOauthSets/);
        assert.match(global, /<callbackUrl>https:\/\/quotes\.example\.com\/oauth\/salesforce\/callback<\/callbackUrl>/);
        assert.doesNotMatch(global, /consumerSecret|consumerKey/);
        assert.ok(!existsSync(join(out, D, 'lwc/qwotyCardView/__tests__')), 'jest tests are not copied');
        assert.ok(
            !existsSync(join(out, 'force-app', 'extlClntAppGlobalOauthSets')),
            'global settings stay out of the package'
        );
        // The sources are untouched.
        assert.equal(
            readFileSync(join(PROJECT, D, 'namedCredentials/Qwoty_API.namedCredential-meta.xml'), 'utf8'),
            sourcesBefore
        );
        assert.ok(sourcesBefore.includes(PLACEHOLDER_APP_URL));
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});

test('rebuilds its own output but refuses a folder it did not make', () => {
    const { dir, out } = tempOut();
    try {
        retarget({ appUrl: 'https://a.example.com', oauthLink: LINK, out });
        retarget({ appUrl: 'https://b.example.com', oauthLink: LINK, out });
        assert.match(
            readFileSync(join(out, D, 'namedCredentials/Qwoty_API.namedCredential-meta.xml'), 'utf8'),
            /b\.example\.com/
        );

        const foreign = join(dir, 'foreign');
        mkdirSync(foreign);
        writeFileSync(join(foreign, 'keep.txt'), 'mine');
        assert.throws(
            () => retarget({ appUrl: 'https://a.example.com', oauthLink: LINK, out: foreign }),
            /not empty and was not made by retarget/
        );
        assert.equal(readFileSync(join(foreign, 'keep.txt'), 'utf8'), 'mine');
        assert.throws(
            () => retarget({ appUrl: 'https://a.example.com', oauthLink: LINK, out: PROJECT }),
            /would contain the sources/
        );
        assert.throws(
            () =>
                retarget({
                    appUrl: 'https://a.example.com',
                    oauthLink: LINK,
                    out: join(PROJECT, 'force-app', 'x')
                }),
            /inside force-app/
        );
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});

test('the CLI prints where the build went', () => {
    const { dir, out } = tempOut();
    try {
        const stdout = execFileSync(
            process.execPath,
            [SCRIPT, '--app-url', 'https://quotes.example.com', '--oauth-link', LINK, '--out', out],
            { encoding: 'utf8' }
        );
        assert.match(stdout, /app URL https:\/\/quotes\.example\.com/);
        assert.match(stdout, /Dev Hub only/);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
