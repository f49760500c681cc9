// Bundles Pipedrive's app extensions SDK (the npm package pinned in
// package.json) into one browser file for the Qwoty server to serve, with its
// licence beside it:
//
//   static/vendor/pipedrive/app-extensions-sdk-<version>.min.js   IIFE, sets window.AppExtensionsSDK
//   static/vendor/pipedrive/LICENSE                               the package's LICENSE.md
//
// The global is the SDK class itself, with the package's named exports
// (Command, Event, Modal, ...) as its properties, so a page can write
// `new AppExtensionsSDK()` and `AppExtensionsSDK.Command.GET_SIGNED_TOKEN`.
// The build is reproducible: the same pinned SDK and esbuild give the same bytes.
//
//   node scripts/build-pipedrive-sdk.mjs             write the files
//   node scripts/build-pipedrive-sdk.mjs --check     fail if the committed files differ from a fresh build
//   [--out-dir DIR]                                  another folder than static/vendor/pipedrive (tests)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { PROJECT_DIR } from './lib/project.mjs';

export const PACKAGE = '@pipedrive/app-extensions-sdk';
export const VENDOR_DIR = resolve(PROJECT_DIR, '..', 'static', 'vendor', 'pipedrive');
export const GLOBAL_NAME = 'AppExtensionsSDK';

// CommonJS on purpose: with format iife and a global name, esbuild assigns
// module.exports itself to the global.
const ENTRY = `const sdk = require(${JSON.stringify(PACKAGE)});
const AppExtensionsSDK = sdk.default;
for (const [name, value] of Object.entries(sdk)) {
    if (name !== 'default') AppExtensionsSDK[name] = value;
}
module.exports = AppExtensionsSDK;
`;

function packageDir() {
    return join(PROJECT_DIR, 'node_modules', ...PACKAGE.split('/'));
}

/** The SDK version pinned in package.json, checked against the installed one. */
export function pinnedVersion() {
    const pinned = JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')).devDependencies?.[PACKAGE];
    if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(pinned ?? '')) {
        throw new Error(`package.json must pin ${PACKAGE} to an exact version, got ${JSON.stringify(pinned)}`);
    }
    const installed = JSON.parse(readFileSync(join(packageDir(), 'package.json'), 'utf8')).version;
    if (installed !== pinned) {
        throw new Error(`node_modules holds ${PACKAGE} ${installed}, package.json pins ${pinned}: run npm ci`);
    }
    return pinned;
}

export function bundleName(version) {
    return `app-extensions-sdk-${version}.min.js`;
}

/** Builds the bundle and the licence in memory: { version, files: { name: Buffer } }. */
export async function build() {
    const version = pinnedVersion();
    const result = await esbuild.build({
        stdin: { contents: ENTRY, resolveDir: PROJECT_DIR, sourcefile: 'pipedrive-sdk-entry.cjs', loader: 'js' },
        bundle: true,
        format: 'iife',
        globalName: GLOBAL_NAME,
        platform: 'browser',
        target: ['es2020'],
        minify: true,
        legalComments: 'none',
        charset: 'utf8',
        banner: {
            js: `/*! ${PACKAGE} ${version} | MIT License, Copyright (C) 2012-2022 by Pipedrive, Inc. (see LICENSE) | bundled with esbuild ${esbuild.version}: window.${GLOBAL_NAME} */`
        },
        write: false,
        logLevel: 'silent'
    });
    if (result.outputFiles.length !== 1) {
        throw new Error(`esbuild produced ${result.outputFiles.length} files, expected 1`);
    }
    const licence = readFileSync(join(packageDir(), 'LICENSE.md'));
    return {
        version,
        files: {
            [bundleName(version)]: Buffer.from(result.outputFiles[0].contents),
            LICENSE: licence
        }
    };
}

/** Lists how the files in dir differ from a fresh build (empty when identical). */
export async function check(dir = VENDOR_DIR) {
    const { version, files } = await build();
    const problems = [];
    for (const [name, bytes] of Object.entries(files)) {
        const path = join(dir, name);
        if (!existsSync(path)) {
            problems.push(`${name} is missing`);
        } else if (!readFileSync(path).equals(bytes)) {
            problems.push(`${name} differs from a fresh build of ${PACKAGE} ${version}`);
        }
    }
    const readme = join(dir, 'README.md');
    if (dir === VENDOR_DIR && !(existsSync(readme) && readFileSync(readme, 'utf8').includes(bundleName(version)))) {
        problems.push(`README.md does not name ${bundleName(version)}`);
    }
    return problems;
}

export async function write(dir = VENDOR_DIR) {
    const { version, files } = await build();
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) {
        writeFileSync(join(dir, name), bytes);
    }
    return { version, names: Object.keys(files) };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
    const argv = process.argv.slice(2);
    const checkOnly = argv.includes('--check');
    const at = argv.indexOf('--out-dir');
    const dir = at >= 0 ? resolve(argv[at + 1] ?? '') : VENDOR_DIR;
    try {
        if (checkOnly) {
            const problems = await check(dir);
            if (problems.length > 0) {
                console.error(
                    `build-pipedrive-sdk: ${dir} is not what the pinned SDK builds to:\n  - ${problems.join('\n  - ')}\n` +
                        'run `npm run build:pipedrive` and commit the result'
                );
                process.exit(1);
            }
            console.log(`build-pipedrive-sdk: ${dir} matches a fresh build`);
        } else {
            const { version, names } = await write(dir);
            console.log(`build-pipedrive-sdk: ${PACKAGE} ${version} -> ${names.map((n) => join(dir, n)).join(', ')}`);
        }
    } catch (e) {
        console.error(`build-pipedrive-sdk: ${e.message}`);
        process.exit(1);
    }
}
