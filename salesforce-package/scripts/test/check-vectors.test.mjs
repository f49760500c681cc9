// The vectors checker passes on the shared file and the Apex test, and fails
// as soon as either drifts from the other or from the signing scheme.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { apexVectorCalls, checkVectors, DEFAULT_APEX, DEFAULT_VECTORS, unescapeApex } from '../check-vectors.mjs';
import { canonicalMessage, idChecksum, isValidId18, sign } from '../lib/signing.mjs';

const vectorsText = readFileSync(DEFAULT_VECTORS, 'utf8');
const apex = readFileSync(DEFAULT_APEX, 'utf8');

function withVectors(change) {
    const doc = JSON.parse(vectorsText);
    change(doc);
    return JSON.stringify(doc);
}

function expectProblem(problems, pattern) {
    assert.ok(
        problems.some((p) => pattern.test(p)),
        `expected a problem matching ${pattern}, got:\n${problems.join('\n') || '(none)'}`
    );
}

test('the shared vectors and QwotySignerTest agree', () => {
    assert.deepEqual(checkVectors(vectorsText, apex), []);
});

test('the shared file covers the required cases', () => {
    const { vectors } = JSON.parse(vectorsText);
    assert.ok(vectors.length >= 5);
    assert.ok(
        vectors.some((v) => v.path === '/api/crm/ping' && v.body === '{}'),
        'a ping vector with body {}'
    );
    assert.ok(
        vectors.some((v) => /[^\x00-\x7f]/.test(v.body) && /\p{Extended_Pictographic}/u.test(v.body)),
        'a body with accents and emoji'
    );
    assert.ok(
        vectors.some((v) => v.secret.length === 15 && /[^A-Za-z0-9]/.test(v.secret)),
        'a 15-character secret with symbols'
    );
    assert.ok(
        vectors.some((v) => v.body.length > 2000),
        'a long body'
    );
});

test('the signer matches an independent known answer', () => {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    assert.equal(
        sign('Jefe', 'what do ya want for nothing?'),
        'v1=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'
    );
    assert.equal(
        canonicalMessage({ timestamp: '1', nonce: 'n', orgId: 'o', method: 'POST', path: '/p', body: '{}' }),
        'v1\n1\nn\no\nPOST\n/p\n{}'
    );
});

test('org id checksums follow the Salesforce rule', () => {
    assert.equal(idChecksum('001D000000IqhSL'), 'IAZ');
    assert.equal(idChecksum('001000000000001'), 'AAA');
    assert.ok(isValidId18('00D5g000004XyZaEAK'));
    assert.ok(!isValidId18('00D5g000004XyZaAAA'));
    assert.ok(!isValidId18('00D5g000004XyZa'));
});

test('Apex literals are decoded', () => {
    assert.equal(unescapeApex("it\\'s \\\\ a\\nb \\u00e9"), "it's \\ a\nb é");
    const calls = apexVectorCalls("assertVector('a', 'b\\'c');\nprivate static void assertVector(String name) {}");
    assert.deepEqual(calls, [{ args: ['a', "b'c"], nonLiteral: false }]);
});

test('catches a signature that does not recompute', () => {
    const broken = withVectors((d) => {
        d.vectors[0].signature = 'v1=' + '0'.repeat(64);
    });
    expectProblem(checkVectors(broken, apex), /signature v1=0+ does not recompute; expected v1=[0-9a-f]{64}/);
});

test('catches a message that is not the canonical string', () => {
    const broken = withVectors((d) => {
        d.vectors[1].message = d.vectors[1].message.replace('POST', 'post');
    });
    expectProblem(checkVectors(broken, apex), /message is not "v1\\n"/);
});

test('catches a body changed in the JSON only', () => {
    const broken = withVectors((d) => {
        d.vectors[2].body = '{ }';
        d.vectors[2].message = canonicalMessage(d.vectors[2]);
        d.vectors[2].signature = sign(d.vectors[2].secret, d.vectors[2].message);
    });
    expectProblem(
        checkVectors(broken, apex),
        /QwotySignerTest: vector "ping with an empty object body" has a different body/
    );
});

test('catches a signature changed in the Apex test only', () => {
    const { vectors } = JSON.parse(vectorsText);
    const broken = apex.replace(vectors[3].signature, 'v1=' + 'a'.repeat(64));
    assert.notEqual(broken, apex);
    expectProblem(checkVectors(vectorsText, broken), /has a different signature/);
});

test('catches a vector missing from the Apex test', () => {
    const broken = apex.replace(/assertVector\(\s*'long body'/, "assertVectorX('long body'");
    assert.notEqual(broken, apex);
    expectProblem(checkVectors(vectorsText, broken), /vector "long body" of the vectors file is not asserted/);
});

test('catches an Apex vector missing from the JSON', () => {
    const broken = withVectors((d) => {
        d.vectors = d.vectors.filter((v) => v.name !== 'long body');
    });
    expectProblem(checkVectors(broken, apex), /vector "long body" is not in the vectors file/);
});

test('catches invalid org ids, nonces and timestamps', () => {
    const broken = withVectors((d) => {
        d.vectors[0].orgId = '00D5g000004XyZaAAA';
        d.vectors[1].nonce = 'short';
        d.vectors[2].timestamp = '1763805600.5';
    });
    const problems = checkVectors(broken, apex);
    expectProblem(problems, /orgId 00D5g000004XyZaAAA is not an 18-character id/);
    expectProblem(problems, /nonce must be 16 to 64 characters/);
    expectProblem(problems, /timestamp must be whole Unix seconds/);
});

test('catches too few vectors', () => {
    const broken = withVectors((d) => {
        d.vectors = d.vectors.slice(0, 2);
    });
    expectProblem(checkVectors(broken, apex), /expected at least 5 vectors, got 2/);
});
