// Writes a copy of the HubSpot project with one Qwoty server's URL in place of
// the placeholder (the card's APP_URL, permittedUrls, the OAuth redirect URL),
// ready for `hs project upload`. The sources are never edited.
//
//   node scripts/retarget.mjs --app-url https://quotes.example.com --out build/hubspot-app
//
// Output: <out>/hsproject.json and <out>/src/... (node_modules left out).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkProject } from './check-config.mjs';
import { normalizeAppUrl, PLACEHOLDER_APP_URL, PROJECT_DIR } from './lib/project.mjs';

const MARKER = '.qwoty-retarget';
const TEXT_SUFFIXES = ['.json', '.ts', '.tsx', '.js', '.jsx', '.mjs', '.md'];
const SKIP = new Set(['node_modules']);

function usage(message) {
    return new Error(`${message}\nusage: node scripts/retarget.mjs --app-url https://HOST --out DIR`);
}

/** Parses the command line into { appUrl, out }; throws on anything else. */
export function parseArgs(argv) {
    const args = {};
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (flag !== '--app-url' && flag !== '--out') {
            throw usage(`unknown argument ${JSON.stringify(flag)}`);
        }
        const value = argv[i + 1];
        if (value === undefined || value === '' || value.startsWith('--')) {
            throw usage(`${flag} needs a value`);
        }
        args[flag.slice(2)] = value;
        i++;
    }
    if (!args['app-url']) throw usage('--app-url is required');
    if (!args.out) throw usage('--out is required');
    return { appUrl: normalizeAppUrl(args['app-url']), out: args.out };
}

function isInside(child, parent) {
    const rel = relative(parent, child);
    return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep));
}

function prepareOut(out) {
    if (isInside(PROJECT_DIR, out)) {
        throw new Error(`--out ${out} would contain the sources: choose a folder such as build/hubspot-app`);
    }
    if (isInside(out, join(PROJECT_DIR, 'src'))) {
        throw new Error(`--out ${out} is inside src: choose a folder such as build/hubspot-app`);
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
        if (SKIP.has(name)) continue;
        const full = join(dir, name);
        if (statSync(full).isDirectory()) {
            out.push(...listFiles(full));
        } else {
            out.push(full);
        }
    }
    return out;
}

/** Writes the retargeted copy and returns { outDir, files, replaced }. */
export function retarget({ appUrl, out }) {
    const outDir = resolve(out);
    prepareOut(outDir);
    const sources = [join(PROJECT_DIR, 'hsproject.json'), ...listFiles(join(PROJECT_DIR, 'src'))];
    let replaced = 0;
    for (const file of sources) {
        const target = join(outDir, relative(PROJECT_DIR, file));
        mkdirSync(dirname(target), { recursive: true });
        if (!TEXT_SUFFIXES.some((s) => file.endsWith(s))) {
            copyFileSync(file, target);
            continue;
        }
        const text = readFileSync(file, 'utf8');
        const parts = text.split(PLACEHOLDER_APP_URL);
        replaced += parts.length - 1;
        writeFileSync(target, parts.join(appUrl));
    }
    if (replaced === 0) {
        throw new Error(`found no ${PLACEHOLDER_APP_URL} in the sources: nothing was retargeted`);
    }
    const problems = checkProject(outDir, { appUrl });
    for (const file of listFiles(outDir)) {
        if (readFileSync(file, 'utf8').includes(PLACEHOLDER_APP_URL) && appUrl !== PLACEHOLDER_APP_URL) {
            problems.push(`${relative(outDir, file)}: still contains ${PLACEHOLDER_APP_URL}`);
        }
    }
    if (problems.length > 0) {
        throw new Error(`the copy in ${outDir} does not pass the configuration check:\n  - ${problems.join('\n  - ')}`);
    }
    return { outDir, files: sources.length, replaced };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
    try {
        const options = parseArgs(process.argv.slice(2));
        const result = retarget(options);
        console.log(
            `retarget: ${result.files} files copied to ${result.outDir}; app URL ${options.appUrl} written in ${result.replaced} places`
        );
        console.log(`retarget: upload with: cd ${result.outDir} && hs project upload`);
    } catch (e) {
        console.error(`retarget: ${e.message}`);
        process.exit(1);
    }
}
