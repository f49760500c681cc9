// ESLint with the LWC and Lightning Web Security configs (eslint.config.js)
// passes the component and fails on code that LWS blocks or LWC forbids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMPONENT = 'force-app/main/default/lwc/qwotyCardView/qwotyCardView.js';
const eslint = new ESLint({ cwd: PROJECT });

function component(body) {
    return `import { LightningElement } from 'lwc';

export default class Planted extends LightningElement {
    connectedCallback() {
${body}
    }
}
`;
}

async function errors(code) {
    const [result] = await eslint.lintText(code, { filePath: join(PROJECT, COMPONENT) });
    return result.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

test('the component has no error and no warning', async () => {
    const [result] = await eslint.lintFiles([join(PROJECT, COMPONENT)]);
    assert.deepEqual(
        result.messages.map((m) => `${m.line}: ${m.ruleId}: ${m.message}`),
        []
    );
});

test('the Lightning Web Security rules are on: a blocked API is an error', async () => {
    const found = await errors(component("        document.domain = 'example.com';"));
    assert.ok(
        found.some((m) => m.startsWith('@locker/locker/distorted-document-domain-setter')),
        found.join('\n') || '(no error)'
    );
});

test('the LWC rules are on: innerHTML is an error', async () => {
    const found = await errors(component("        this.template.querySelector('div').innerHTML = '<b>x</b>';"));
    assert.ok(
        found.some((m) => m.startsWith('@lwc/lwc/no-inner-html')),
        found.join('\n') || '(no error)'
    );
});
