import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs, retarget } from '../scripts/retarget.mjs';
import { PLACEHOLDER_APP_URL, PROJECT_DIR } from '../scripts/lib/project.mjs';

const SCRIPT = join(PROJECT_DIR, 'scripts', 'retarget.mjs');
const APP_URL = 'https://quotes.example.com';

function filesUnder(dir) {
    const out = [];
    for (const name of readdirSync(dir)) {
        if (name === 'node_modules') continue;
        const full = join(dir, name);
        if (statSync(full).isDirectory()) out.push(...filesUnder(full));
        else out.push(full);
    }
    return out;
}

function hashSources() {
    const h = createHash('sha256');
    for (const f of [join(PROJECT_DIR, 'hsproject.json'), ...filesUnder(join(PROJECT_DIR, 'src'))].sort()) {
        h.update(relative(PROJECT_DIR, f)).update(readFileSync(f));
    }
    return h.digest('hex');
}

function tempDir() {
    return mkdtempSync(join(tmpdir(), 'qwoty-hubspot-retarget-'));
}

describe('retarget.mjs', () => {
    test('writes the app URL everywhere the placeholder was, and leaves the sources alone', () => {
        const before = hashSources();
        const out = join(tempDir(), 'hubspot-app');
        try {
            const result = retarget({ appUrl: APP_URL, out });
            assert.equal(result.replaced, 6, 'config.ts APP_URL, redirectUrls, fetch, iframe, img and the webhooks\' targetUrl');
            const app = JSON.parse(readFileSync(join(out, 'src/app/app-hsmeta.json'), 'utf8'));
            assert.deepEqual(app.config.permittedUrls.fetch, [APP_URL]);
            assert.deepEqual(app.config.permittedUrls.iframe, [APP_URL]);
            assert.deepEqual(app.config.auth.redirectUrls, [`${APP_URL}/oauth/hubspot/callback`]);
            assert.match(readFileSync(join(out, 'src/app/cards/config.ts'), 'utf8'), /APP_URL = 'https:\/\/quotes\.example\.com';/);
            const hooks = JSON.parse(readFileSync(join(out, 'src/app/webhooks/webhooks-hsmeta.json'), 'utf8'));
            assert.equal(hooks.config.settings.targetUrl, `${APP_URL}/webhooks/hubspot`);
            for (const f of filesUnder(out)) {
                assert.equal(readFileSync(f, 'utf8').includes(PLACEHOLDER_APP_URL), false, `${f} still has the placeholder`);
            }
            assert.ok(existsSync(join(out, 'hsproject.json')), 'hsproject.json not copied');
            assert.ok(existsSync(join(out, 'src/app/cards/QuotesCard.tsx')), 'the card not copied');
            assert.equal(hashSources(), before, 'the sources changed');
        } finally {
            rmSync(join(out, '..'), { recursive: true, force: true });
        }
    });

    test('runs again over its own output', () => {
        const out = join(tempDir(), 'hubspot-app');
        try {
            retarget({ appUrl: APP_URL, out });
            retarget({ appUrl: 'https://other.example.org', out });
            const app = JSON.parse(readFileSync(join(out, 'src/app/app-hsmeta.json'), 'utf8'));
            assert.deepEqual(app.config.permittedUrls.fetch, ['https://other.example.org']);
        } finally {
            rmSync(join(out, '..'), { recursive: true, force: true });
        }
    });

    test('refuses a folder it did not make, or one inside the sources', () => {
        const dir = tempDir();
        try {
            writeFileSync(join(dir, 'precious.txt'), 'keep me');
            assert.throws(() => retarget({ appUrl: APP_URL, out: dir }), /not made by retarget\.mjs/);
            assert.equal(readFileSync(join(dir, 'precious.txt'), 'utf8'), 'keep me');
            assert.throws(() => retarget({ appUrl: APP_URL, out: join(PROJECT_DIR, 'src', 'x') }), /inside src/);
            assert.throws(() => retarget({ appUrl: APP_URL, out: join(PROJECT_DIR, '..') }), /would contain the sources/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test('accepts only a bare https origin', () => {
        assert.deepEqual(parseArgs(['--app-url', `${APP_URL}/`, '--out', 'x']), { appUrl: APP_URL, out: 'x' });
        assert.throws(() => parseArgs(['--app-url', 'http://quotes.example.com', '--out', 'x']), /https/);
        assert.throws(() => parseArgs(['--app-url', `${APP_URL}/qwoty`, '--out', 'x']), /bare origin/);
        assert.throws(() => parseArgs(['--app-url', `${APP_URL}?a=1`, '--out', 'x']), /bare origin/);
        assert.throws(() => parseArgs(['--app-url', 'https://u:p@quotes.example.com', '--out', 'x']), /credentials/);
        assert.throws(() => parseArgs(['--out', 'x']), /--app-url is required/);
        assert.throws(() => parseArgs(['--app-url', APP_URL]), /--out is required/);
        assert.throws(() => parseArgs(['--app-url', APP_URL, '--out', 'x', '--force']), /unknown argument/);
    });

    test('works from the command line and exits 1 on a bad URL', () => {
        const dir = tempDir();
        try {
            const out = join(dir, 'hs');
            const stdout = execFileSync(process.execPath, [SCRIPT, '--app-url', APP_URL, '--out', out], { encoding: 'utf8' });
            assert.match(stdout, /app URL https:\/\/quotes\.example\.com written in 6 places/);
            const bad = spawnSync(process.execPath, [SCRIPT, '--app-url', 'http://x.example', '--out', join(dir, 'bad')], {
                encoding: 'utf8'
            });
            assert.equal(bad.status, 1);
            assert.match(bad.stderr, /must use https/);
            assert.equal(existsSync(join(dir, 'bad')), false, 'a refused run created its output folder');
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
