// The project configuration: the sources pass scripts/check-config.mjs, and the
// check catches each mistake it is there for (a copy of the project is broken
// one way at a time).
import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCardDependencies, checkProject } from '../scripts/check-config.mjs';
import { PLACEHOLDER_APP_URL, PLATFORM_VERSION, PROJECT_DIR } from '../scripts/lib/project.mjs';

const APP_META = 'src/app/app-hsmeta.json';
const CARD_META = 'src/app/cards/quotes-card-hsmeta.json';

function readJson(dir, rel) {
    return JSON.parse(readFileSync(join(dir, rel), 'utf8'));
}

/** A throwaway copy of the project's config and sources. */
function copyProject() {
    const dir = mkdtempSync(join(tmpdir(), 'qwoty-hubspot-config-'));
    cpSync(join(PROJECT_DIR, 'hsproject.json'), join(dir, 'hsproject.json'));
    cpSync(join(PROJECT_DIR, 'package.json'), join(dir, 'package.json'));
    cpSync(join(PROJECT_DIR, 'src'), join(dir, 'src'), {
        recursive: true,
        filter: (src) => !src.includes('node_modules')
    });
    return dir;
}

function editJson(dir, rel, edit) {
    const value = readJson(dir, rel);
    edit(value);
    writeFileSync(join(dir, rel), JSON.stringify(value, null, 2));
}

describe('the committed configuration', () => {
    test('passes the check', () => {
        assert.deepEqual(checkProject(PROJECT_DIR, { appUrl: PLACEHOLDER_APP_URL }), []);
        assert.deepEqual(checkCardDependencies(PROJECT_DIR), []);
    });

    test('is valid JSON with fetch and iframe permitted on exactly the app URL', () => {
        const app = readJson(PROJECT_DIR, APP_META);
        assert.equal(app.type, 'app');
        assert.deepEqual(app.config.permittedUrls.fetch, [PLACEHOLDER_APP_URL]);
        assert.deepEqual(app.config.permittedUrls.iframe, [PLACEHOLDER_APP_URL]);
        assert.equal(app.config.auth.type, 'oauth');
        assert.deepEqual(app.config.auth.redirectUrls, [`${PLACEHOLDER_APP_URL}/oauth/hubspot/callback`]);
        assert.ok(app.config.auth.requiredScopes.includes('crm.objects.deals.read'), 'the app cannot read deals');
        for (const scope of ['crm.objects.deals.write', 'crm.objects.line_items.write', 'crm.schemas.deals.write']) {
            assert.ok(app.config.auth.requiredScopes.includes(scope), `sync cannot write without ${scope}`);
        }
    });

    test('puts the card on deals, with an entry point that registers it', () => {
        const card = readJson(PROJECT_DIR, CARD_META);
        assert.equal(card.type, 'card');
        assert.deepEqual(card.config.objectTypes, ['deals']);
        assert.equal(card.config.location, 'crm.record.tab');
        const entry = readFileSync(join(PROJECT_DIR, 'src', card.config.entrypoint), 'utf8');
        assert.match(entry, /hubspot\.extend/);
    });

    test('uses the current platform version', () => {
        assert.equal(readJson(PROJECT_DIR, 'hsproject.json').platformVersion, PLATFORM_VERSION);
    });
});

describe('the check catches', () => {
    const cases = [
        ['an extra fetch URL', (d) => editJson(d, APP_META, (a) => a.config.permittedUrls.fetch.push('https://other.example')), /permittedUrls\.fetch must be exactly/],
        ['a missing iframe URL', (d) => editJson(d, APP_META, (a) => delete a.config.permittedUrls.iframe), /permittedUrls\.iframe must be exactly/],
        ['an image URL elsewhere', (d) => editJson(d, APP_META, (a) => (a.config.permittedUrls.img = ['https://cdn.example'])), /permittedUrls\.img/],
        ['a wrong redirect URL', (d) => editJson(d, APP_META, (a) => (a.config.auth.redirectUrls = ['https://app.qwoty.example/callback'])), /redirectUrls/],
        ['static auth', (d) => editJson(d, APP_META, (a) => (a.config.auth.type = 'static')), /auth\.type must be "oauth"/],
        ['a missing deals scope', (d) => editJson(d, APP_META, (a) => (a.config.auth.requiredScopes = ['oauth'])), /requiredScopes/],
        ['a card on contacts', (d) => editJson(d, CARD_META, (c) => (c.config.objectTypes = ['contacts'])), /objectTypes must be \["deals"\]/],
        ['a missing entry point', (d) => editJson(d, CARD_META, (c) => (c.config.entrypoint = '/app/cards/Missing.tsx')), /does not exist/],
        ['a duplicate uid', (d) => editJson(d, CARD_META, (c) => (c.uid = readJson(d, APP_META).uid)), /is also used by/],
        ['an old platform version', (d) => editJson(d, 'hsproject.json', (p) => (p.platformVersion = '2023.2')), /platformVersion/],
        ['broken JSON', (d) => writeFileSync(join(d, APP_META), '{"uid": '), /not valid JSON/],
        [
            "a card APP_URL that differs from the config's",
            (d) => writeFileSync(join(d, 'src/app/cards/config.ts'), "export const APP_URL = 'https://elsewhere.example';\n"),
            /config\.ts: APP_URL/
        ],
        ['a card dependency range', (d) => editJson(d, 'src/app/cards/package.json', (p) => (p.dependencies.react = '^18.3.1')), /exact version/, true],
        ['a card dependency not tested', (d) => editJson(d, 'src/app/cards/package.json', (p) => (p.dependencies['@hubspot/ui-extensions'] = '0.16.0')), /tests with 0\.17\.0/, true]
    ];
    for (const [name, breakIt, expected, deps] of cases) {
        test(name, () => {
            const dir = copyProject();
            try {
                const before = deps ? checkCardDependencies(dir) : checkProject(dir, { appUrl: PLACEHOLDER_APP_URL });
                assert.deepEqual(before, [], 'the copy should pass before it is broken');
                breakIt(dir);
                const problems = deps ? checkCardDependencies(dir) : checkProject(dir, { appUrl: PLACEHOLDER_APP_URL });
                assert.ok(
                    problems.some((p) => expected.test(p)),
                    `expected a problem matching ${expected}, got ${JSON.stringify(problems)}`
                );
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        });
    }

    test('a project checked against another app URL', () => {
        const problems = checkProject(PROJECT_DIR, { appUrl: 'https://quotes.example.com' });
        for (const what of ['permittedUrls.fetch', 'permittedUrls.iframe', 'redirectUrls', 'config.ts']) {
            assert.ok(problems.some((p) => p.includes(what)), `no problem about ${what} in ${JSON.stringify(problems)}`);
        }
    });
});
