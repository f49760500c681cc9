// The vendored Pipedrive SDK (static/vendor/pipedrive): it is what the pinned
// package builds to, it sets window.AppExtensionsSDK when loaded as a classic
// script, and it speaks to a fake Pipedrive parent window the way the custom
// panel page will use it (initialize, get a signed token, resize).
import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { bundleName, check, pinnedVersion, VENDOR_DIR, write } from '../scripts/build-pipedrive-sdk.mjs';

const BUNDLE = join(VENDOR_DIR, bundleName(pinnedVersion()));

/**
 * Loads the bundle in a fresh context whose window.parent plays Pipedrive:
 * it records every message and answers through the transferred port.
 */
function loadInFakeIframe(search, answer = () => ({})) {
    const received = [];
    const window = {
        location: { search },
        addEventListener() {},
        parent: {
            postMessage(message, targetOrigin, ports) {
                received.push({ message: structuredClone(message), targetOrigin });
                if (ports && ports[0]) ports[0].postMessage(answer(message.payload));
            }
        }
    };
    const context = vm.createContext({ window, MessageChannel, URLSearchParams, Promise, Object, console });
    vm.runInContext(readFileSync(BUNDLE, 'utf8'), context, { filename: BUNDLE });
    return { SDK: context.AppExtensionsSDK, received };
}

describe('the vendored Pipedrive SDK bundle', () => {
    test('is what the pinned package builds to, with its licence', async () => {
        assert.deepEqual(await check(), []);
        const licence = readFileSync(join(VENDOR_DIR, 'LICENSE'), 'utf8');
        assert.match(licence, /MIT License/);
        assert.match(licence, /Pipedrive/);
    });

    test('sets a global class with the SDK constants on it', () => {
        const { SDK } = loadInFakeIframe('?id=panel-1');
        assert.equal(typeof SDK, 'function');
        assert.equal(SDK.Command.INITIALIZE, 'initialize');
        assert.equal(SDK.Command.GET_SIGNED_TOKEN, 'get_signed_token');
        assert.equal(SDK.Command.RESIZE, 'resize');
        assert.equal(SDK.Event.VISIBILITY, 'visibility');
        for (const method of ['initialize', 'execute', 'listen']) {
            assert.equal(typeof SDK.prototype[method], 'function', `no ${method}`);
        }
    });

    test('initializes with a panel height, then gets a signed token and resizes', async () => {
        const { SDK, received } = loadInFakeIframe('?id=panel-123&theme=dark', (payload) =>
            payload.command === 'get_signed_token' ? { data: { token: 'header.claims.signature' } } : {}
        );
        const sdk = new SDK();
        assert.equal(sdk.userSettings.theme, 'dark');
        assert.throws(() => sdk.execute(SDK.Command.GET_SIGNED_TOKEN), /not initialized/);

        assert.equal(await sdk.initialize({ size: { height: 400 } }), sdk);
        assert.deepEqual(received[0].message, {
            id: 'panel-123',
            payload: { command: 'initialize', args: { size: { height: 400 } }, type: 'command' }
        });

        assert.deepEqual(await sdk.execute(SDK.Command.GET_SIGNED_TOKEN), { token: 'header.claims.signature' });
        assert.deepEqual(received[1].message.payload, { command: 'get_signed_token', args: undefined, type: 'command' });

        await sdk.execute(SDK.Command.RESIZE, { height: 600 });
        assert.deepEqual(received[2].message.payload, { command: 'resize', args: { height: 600 }, type: 'command' });
    });

    test("rejects when Pipedrive answers with an error, and needs the iframe's id", async () => {
        const { SDK } = loadInFakeIframe('?id=panel-9', (payload) =>
            payload.command === 'initialize' ? {} : { error: 'Token could not be generated' }
        );
        const sdk = await new SDK().initialize();
        await assert.rejects(sdk.execute(SDK.Command.GET_SIGNED_TOKEN), /Token could not be generated/);
        const bare = loadInFakeIframe('');
        assert.throws(() => new bare.SDK(), /identifier/);
        assert.equal(new bare.SDK({ identifier: 'given' }).userSettings.theme, 'light');
    });
});

describe('build-pipedrive-sdk.mjs --check', () => {
    test('finds a changed byte and a missing licence', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'qwoty-pipedrive-'));
        try {
            await write(dir);
            assert.deepEqual(await check(dir), []);
            const bundle = join(dir, bundleName(pinnedVersion()));
            writeFileSync(bundle, readFileSync(bundle, 'utf8').replace('get_signed_token', 'get_signed_tokem'));
            assert.match((await check(dir)).join('\n'), /differs from a fresh build/);
            unlinkSync(join(dir, 'LICENSE'));
            assert.match((await check(dir)).join('\n'), /LICENSE is missing/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
