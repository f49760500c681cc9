// Copies the package sources into a build folder with the Qwoty URL of one
// environment written in (named credential, CSP trusted site) and the OAuth
// link of the External Client App, and renders the app's global OAuth
// settings (callback URL) for the Dev Hub beside it. The sources themselves
// are never edited.
//
//   node scripts/retarget.mjs --app-url https://quotes.example.com --dev-hub-only --out build/package
//   node scripts/retarget.mjs --app-url https://quotes.example.com --oauth-link ORGID:CONSUMERID --out build/package
//
// Output:
//   <out>/dev-hub/                     a small SFDX project for the Dev Hub only: the app,
//                                      its OAuth settings and the global OAuth settings
//   <out>/sfdx-project.json, <out>/.forceignore, <out>/force-app/...   the package to build
//                                      (not with --dev-hub-only)
// A packaged External Client App must point at the OAuth consumer that the Dev
// Hub owns (ExtlClntAppOauthSettings.oauthLink), so the package needs
// --oauth-link; the Dev Hub project, deployed first, is what creates that
// consumer, so it is built without one.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkProject } from './check-metadata.mjs';
import { checkSchema } from './check-schema.mjs';
import { normalizeBaseUrl, OAUTH_CALLBACK_PATH, PLACEHOLDER_APP_URL } from './lib/placeholders.mjs';

const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MARKER = '.qwoty-retarget';
const SKIP_DIRS = new Set(['__tests__']);
const TEXT_SUFFIXES = ['.xml', '.cls', '.js', '.html', '.css', '.json'];
const ECA_NAME = 'Qwoty';

function usage(message) {
    return new Error(
        `${message}\nusage: node scripts/retarget.mjs --app-url https://HOST (--oauth-link ORGID:CONSUMERID | --dev-hub-only) --out DIR`
    );
}

export function parseArgs(argv) {
    const args = {};
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (flag === '--dev-hub-only') {
            args.devHubOnly = true;
            continue;
        }
        if (!['--app-url', '--out', '--oauth-link'].includes(flag)) {
            throw usage(`unknown argument ${JSON.stringify(flag)}`);
        }
        const value = argv[i + 1];
        if (value === undefined || value === '' || value.startsWith('--')) {
            throw usage(`${flag} needs a value`);
        }
        args[flag.slice(2)] = value;
        i++;
    }
    if (!args['app-url']) {
        throw usage('--app-url is required');
    }
    if (!args.out) {
        throw usage('--out is required');
    }
    const appUrl = normalizeBaseUrl(args['app-url'], '--app-url');
    const oauthLink = args['oauth-link'];
    const devHubOnly = args.devHubOnly === true;
    if (devHubOnly && oauthLink !== undefined) {
        throw usage('--dev-hub-only builds the Dev Hub project, which needs no --oauth-link: pass one or the other');
    }
    if (!devHubOnly && oauthLink === undefined) {
        throw usage(
            '--oauth-link is required: a packaged External Client App must link to the OAuth consumer of the Dev Hub ' +
                'that owns the Qwoty namespace. Build and deploy the Dev Hub project first (--dev-hub-only), retrieve ' +
                'ExtlClntAppOauthSettings:Qwoty_oauth from the Dev Hub and pass its oauthLink ' +
                '(docs/salesforce-package.md, "External Client App and its OAuth settings")'
        );
    }
    if (oauthLink !== undefined && !/^[A-Za-z0-9]{15,18}:[A-Za-z0-9_.\-]+$/.test(oauthLink)) {
        throw usage(
            `--oauth-link must look like ORGID:CONSUMERID as retrieved from the Dev Hub, got ${JSON.stringify(oauthLink)}`
        );
    }
    return { appUrl, oauthLink, devHubOnly, out: args.out };
}

function isInside(child, parent) {
    const rel = relative(parent, child);
    return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

function prepareOut(out) {
    if (isInside(PROJECT, out)) {
        throw new Error(`--out ${out} would contain the sources: choose a folder such as build/package`);
    }
    if (isInside(out, join(PROJECT, 'force-app'))) {
        throw new Error(`--out ${out} is inside force-app: choose a folder such as build/package`);
    }
    if (existsSync(out)) {
        if (!statSync(out).isDirectory()) {
            throw new Error(`--out ${out} exists and is not a folder`);
        }
        if (readdirSync(out).length > 0 && !existsSync(join(out, MARKER))) {
            throw new Error(`--out ${out} is not empty and was not made by retarget.mjs: refusing to overwrite it`);
        }
        rmSync(out, { recursive: true, force: true });
    }
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, MARKER), 'Made by scripts/retarget.mjs; deleted and rebuilt on each run.\n');
}

function listFiles(dir) {
    const out = [];
    for (const name of readdirSync(dir)) {
        const full = join(dir, name);
        if (statSync(full).isDirectory()) {
            if (!SKIP_DIRS.has(name)) {
                out.push(...listFiles(full));
            }
        } else {
            out.push(full);
        }
    }
    return out;
}

function globalOauthSettings(appUrl) {
    return `<?xml version="1.0" encoding="UTF-8"?>
<ExtlClntAppGlobalOauthSettings xmlns="http://soap.sforce.com/2006/04/metadata">
    <callbackUrl>${appUrl}${OAUTH_CALLBACK_PATH}</callbackUrl>
    <externalClientApplication>${ECA_NAME}</externalClientApplication>
    <isConsumerSecretOptional>false</isConsumerSecretOptional>
    <isIntrospectAllTokens>false</isIntrospectAllTokens>
    <isPkceRequired>true</isPkceRequired>
    <isSecretRequiredForRefreshToken>true</isSecretRequiredForRefreshToken>
    <label>Qwoty global OAuth settings</label>
</ExtlClntAppGlobalOauthSettings>
`;
}

/**
 * A separate small SFDX project for the Dev Hub only: the app header, its
 * OAuth settings and the global OAuth settings with this environment's
 * callback URL (no consumer key or secret: Salesforce generates them).
 */
function writeDevHubProject(dir, appUrl) {
    mkdirSync(dir, { recursive: true });
    const project = JSON.parse(readFileSync(join(PROJECT, 'sfdx-project.json'), 'utf8'));
    const devHubProject = {
        packageDirectories: [{ path: 'force-app', default: true }],
        name: 'qwoty-dev-hub-eca',
        sourceApiVersion: project.sourceApiVersion
    };
    writeFileSync(join(dir, 'sfdx-project.json'), JSON.stringify(devHubProject, null, 2) + '\n');
    writeFileSync(join(dir, '.forceignore'), '# Deployed to the Dev Hub only; never packaged.\n');
    const base = join(dir, 'force-app', 'main', 'default');
    for (const folder of ['externalClientApps', 'extlClntAppOauthSettings']) {
        cpSync(join(PROJECT, 'force-app', 'main', 'default', folder), join(base, folder), { recursive: true });
    }
    mkdirSync(join(base, 'extlClntAppGlobalOauthSets'), { recursive: true });
    writeFileSync(
        join(base, 'extlClntAppGlobalOauthSets', `${ECA_NAME}_glbloauth.ecaGlblOauth-meta.xml`),
        globalOauthSettings(appUrl)
    );
}

/**
 * Builds the retargeted copy (or, with devHubOnly, the Dev Hub project alone)
 * and returns a summary of what was rewritten.
 */
export function retarget({ appUrl, oauthLink, devHubOnly = false, out }) {
    if (!devHubOnly && !oauthLink) {
        throw new Error('a package build needs the oauthLink of the Dev Hub (see --dev-hub-only)');
    }
    const outDir = resolve(out);
    prepareOut(outDir);
    writeDevHubProject(join(outDir, 'dev-hub'), appUrl);
    if (devHubOnly) {
        return { outDir, app: 0, files: 0 };
    }

    cpSync(join(PROJECT, 'sfdx-project.json'), join(outDir, 'sfdx-project.json'));
    cpSync(join(PROJECT, '.forceignore'), join(outDir, '.forceignore'));

    const counts = { app: 0, files: 0 };
    for (const file of listFiles(join(PROJECT, 'force-app'))) {
        const target = join(outDir, relative(PROJECT, file));
        mkdirSync(dirname(target), { recursive: true });
        counts.files++;
        if (!TEXT_SUFFIXES.some((s) => file.endsWith(s))) {
            cpSync(file, target);
            continue;
        }
        let text = readFileSync(file, 'utf8');
        counts.app += text.split(PLACEHOLDER_APP_URL).length - 1;
        text = text.split(PLACEHOLDER_APP_URL).join(appUrl);
        if (file.endsWith('.ecaOauth-meta.xml')) {
            if (text.includes('<oauthLink>')) {
                throw new Error(`${relative(PROJECT, file)} already has an oauthLink: remove it from the sources`);
            }
            text = text.replace(/(<\/label>\n)/, `$1    <oauthLink>${oauthLink}</oauthLink>\n`);
        }
        writeFileSync(target, text);
    }
    if (counts.app === 0) {
        throw new Error(`expected the placeholder ${PLACEHOLDER_APP_URL} in the sources, found none`);
    }

    const problems = [...checkProject(outDir, { appUrl, oauthLink }), ...checkSchema(outDir)];
    const leftovers = listFiles(join(outDir, 'force-app')).filter((f) =>
        readFileSync(f, 'utf8').includes(PLACEHOLDER_APP_URL)
    );
    for (const f of leftovers) {
        problems.push(`${relative(outDir, f)}: still contains a placeholder URL`);
    }
    if (problems.length > 0) {
        throw new Error(
            `the retargeted copy in ${outDir} does not pass the metadata check:\n  - ${problems.join('\n  - ')}`
        );
    }
    return { outDir, ...counts };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
    try {
        const options = parseArgs(process.argv.slice(2));
        const result = retarget(options);
        if (!options.devHubOnly) {
            console.log(
                `retarget: ${result.files} files copied to ${result.outDir}; app URL ${options.appUrl} (${result.app} places), OAuth link ${options.oauthLink}`
            );
        }
        console.log(
            `retarget: Dev Hub only: ${join(result.outDir, 'dev-hub')} (callback ${options.appUrl}${OAUTH_CALLBACK_PATH})`
        );
    } catch (e) {
        console.error(`retarget: ${e.message}`);
        process.exit(1);
    }
}
