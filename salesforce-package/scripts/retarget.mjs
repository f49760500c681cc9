// Copies the package sources into a build folder with the Qwoty URLs of one
// environment written in (named credential, CSP trusted sites), and renders
// the External Client App's global OAuth settings (callback URL) for the
// Dev Hub beside it. The sources themselves are never edited.
//
//   node scripts/retarget.mjs --app-url https://quotes.example.com \
//       [--cdn-url https://cdn.example.com] [--oauth-link ORGID:CONSUMERID] --out build/package
//
// Output:
//   <out>/sfdx-project.json, <out>/.forceignore, <out>/force-app/...   the package to build
//   <out>/dev-hub/                     a small SFDX project for the Dev Hub only: the app,
//                                      its OAuth settings and the global OAuth settings
// --cdn-url defaults to the app URL (images served by the app itself).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkProject } from './check-metadata.mjs';
import {
    normalizeBaseUrl,
    OAUTH_CALLBACK_PATH,
    PLACEHOLDER_APP_URL,
    PLACEHOLDER_CDN_URL
} from './lib/placeholders.mjs';

const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MARKER = '.qwoty-retarget';
const SKIP_DIRS = new Set(['__tests__']);
const TEXT_SUFFIXES = ['.xml', '.cls', '.js', '.html', '.css', '.json'];
const ECA_NAME = 'Qwoty';

function usage(message) {
    return new Error(
        `${message}\nusage: node scripts/retarget.mjs --app-url https://HOST [--cdn-url https://HOST] [--oauth-link VALUE] --out DIR`
    );
}

export function parseArgs(argv) {
    const args = {};
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (!['--app-url', '--cdn-url', '--out', '--oauth-link'].includes(flag)) {
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
    const cdnUrl = args['cdn-url'] ? normalizeBaseUrl(args['cdn-url'], '--cdn-url') : appUrl;
    const oauthLink = args['oauth-link'];
    if (oauthLink !== undefined && !/^[A-Za-z0-9]{15,18}:[A-Za-z0-9_.\-]+$/.test(oauthLink)) {
        throw usage(
            `--oauth-link must look like ORGID:CONSUMERID as retrieved from the Dev Hub, got ${JSON.stringify(oauthLink)}`
        );
    }
    return { appUrl, cdnUrl, oauthLink, out: args.out };
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

/** Builds the retargeted copy and returns a summary of what was rewritten. */
export function retarget({ appUrl, cdnUrl, oauthLink, out }) {
    const outDir = resolve(out);
    prepareOut(outDir);

    cpSync(join(PROJECT, 'sfdx-project.json'), join(outDir, 'sfdx-project.json'));
    cpSync(join(PROJECT, '.forceignore'), join(outDir, '.forceignore'));

    const counts = { app: 0, cdn: 0, files: 0 };
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
        counts.cdn += text.split(PLACEHOLDER_CDN_URL).length - 1;
        text = text.split(PLACEHOLDER_APP_URL).join(appUrl).split(PLACEHOLDER_CDN_URL).join(cdnUrl);
        if (oauthLink && file.endsWith('.ecaOauth-meta.xml')) {
            if (text.includes('<oauthLink>')) {
                throw new Error(`${relative(PROJECT, file)} already has an oauthLink: remove it from the sources`);
            }
            text = text.replace(/(<\/label>\n)/, `$1    <oauthLink>${oauthLink}</oauthLink>\n`);
        }
        writeFileSync(target, text);
    }
    if (counts.app === 0 || counts.cdn === 0) {
        throw new Error(
            `expected the placeholders ${PLACEHOLDER_APP_URL} and ${PLACEHOLDER_CDN_URL} in the sources, found ${counts.app} and ${counts.cdn}`
        );
    }

    writeDevHubProject(join(outDir, 'dev-hub'), appUrl);

    const problems = checkProject(outDir, { appUrl, cdnUrl });
    const leftovers = listFiles(join(outDir, 'force-app')).filter((f) => {
        const text = readFileSync(f, 'utf8');
        return (
            text.includes(PLACEHOLDER_APP_URL) || (cdnUrl !== PLACEHOLDER_CDN_URL && text.includes(PLACEHOLDER_CDN_URL))
        );
    });
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
        console.log(
            `retarget: ${result.files} files copied to ${result.outDir}; app URL ${options.appUrl} (${result.app} places), CDN URL ${options.cdnUrl} (${result.cdn} places)`
        );
        console.log(
            `retarget: Dev Hub only: ${join(result.outDir, 'dev-hub')} (callback ${options.appUrl}${OAUTH_CALLBACK_PATH})`
        );
    } catch (e) {
        console.error(`retarget: ${e.message}`);
        process.exit(1);
    }
}
