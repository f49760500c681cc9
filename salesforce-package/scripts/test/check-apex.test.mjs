// apex-ls passes the package's Apex and refuses what the platform compiler
// refuses: one run on a copy with a defect planted per kind (a reserved
// identifier, unknown methods of Crypto, EncodingUtil and HttpRequest, an
// unknown RestContext member, a missing custom-setting field, a local hiding
// a field), each expected at its own line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMessage, runApexLs } from '../check-apex.mjs';

const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLASSES = 'force-app/main/default/classes';

function plant(dir, file, from, to) {
    const path = join(dir, CLASSES, file);
    const text = readFileSync(path, 'utf8');
    assert.ok(text.includes(from), `fixture setup: ${file} should contain ${JSON.stringify(from)}`);
    writeFileSync(path, text.replace(from, to));
}

test('the package Apex has no semantic problem', () => {
    const messages = runApexLs(PROJECT);
    assert.deepEqual(messages.map(formatMessage), []);
});

test('each planted defect is reported where it is, with what is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qwoty-apex-'));
    try {
        cpSync(join(PROJECT, 'sfdx-project.json'), join(dir, 'sfdx-project.json'));
        cpSync(join(PROJECT, 'force-app'), join(dir, 'force-app'), { recursive: true });
        plant(dir, 'QwotyConfigResource.cls', 'String hintText,', 'String hint,');
        plant(dir, 'QwotyConfigResource.cls', "'hint' => hintText,", "'hint' => hint,");
        plant(dir, 'QwotySigner.cls', 'Crypto.generateAesKey(128)', 'Crypto.generateAESKey128()');
        plant(dir, 'QwotySigner.cls', 'EncodingUtil.convertToHex(mac)', 'EncodingUtil.toHex(mac)');
        plant(dir, 'QwotyCallout.cls', 'request.setTimeout(TIMEOUT_MS);', 'request.setTimeoutMillis(TIMEOUT_MS);');
        plant(dir, 'QwotyConfigResource.cls', 'RestContext.request;', 'RestContext.currentRequest;');
        plant(dir, 'QwotyCallout.cls', 'String.isBlank(config.Secret__c)', 'String.isBlank(config.Signing_Key__c)');
        plant(
            dir,
            'QwotyConfigResource.cls',
            'Matcher parts = ORIGIN.matcher((String) value);',
            'Matcher origin = ORIGIN.matcher((String) value);\n        Matcher parts = origin;'
        );

        const found = runApexLs(dir).map(formatMessage);
        const expected = [
            /QwotyConfigResource\.cls:\d+:\d+ Error: 'hint' is a reserved identifier in Apex/,
            /QwotySigner\.cls:\d+:\d+ Missing: No matching method found for 'generateAESKey128' on 'System\.Crypto'/,
            /QwotySigner\.cls:\d+:\d+ Missing: No matching method found for 'toHex' on 'System\.EncodingUtil'/,
            /QwotyCallout\.cls:\d+:\d+ Missing: No matching method found for 'setTimeoutMillis' on 'System\.HttpRequest'/,
            /QwotyConfigResource\.cls:\d+:\d+ Missing: Unknown field or type 'currentRequest' on 'System\.RestContext'/,
            /QwotyCallout\.cls:\d+:\d+ Missing: Unknown field 'Signing_Key__c' on SObject 'Schema\.Qwoty__Qwoty_Config__c'/,
            /QwotyConfigResource\.cls:\d+:\d+ Warning: Local variable is hiding class field 'origin'/
        ];
        for (const pattern of expected) {
            assert.ok(
                found.some((m) => pattern.test(m)),
                `expected apex-ls to report ${pattern}, got:\n${found.join('\n')}`
            );
        }
        assert.equal(found.length, expected.length, `unexpected extra messages:\n${found.join('\n')}`);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});

test('a folder without sfdx-project.json is an error, not a silent pass', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qwoty-apex-empty-'));
    try {
        const messages = runApexLs(dir);
        assert.ok(
            messages.some((m) => /No sfdx-project\.json found/.test(m.message)),
            messages.map(formatMessage).join('\n')
        );
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
