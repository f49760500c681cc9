// Checks the signing vectors shared with the Go server
// (testdata/signing-vectors-v1.json at the repository root):
//  - every vector recomputes: message = "v1\nts\nnonce\norgId\nmethod\npath\nbody"
//    and signature = "v1=" + hex(HMAC-SHA256(secret, message));
//  - inputs respect the contract (18-character org id with a valid suffix,
//    nonce of 16..64 [A-Za-z0-9_-], whole-second timestamp, POST);
//  - QwotySignerTest.cls asserts exactly the same vectors, input for input.
//
//   node scripts/check-vectors.mjs [--vectors FILE] [--apex FILE]
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalMessage, isValidId18, sign } from './lib/signing.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_VECTORS = join(HERE, '..', '..', 'testdata', 'signing-vectors-v1.json');
export const DEFAULT_APEX = join(HERE, '..', 'force-app', 'main', 'default', 'classes', 'QwotySignerTest.cls');

const FIELDS = ['name', 'secret', 'orgId', 'timestamp', 'nonce', 'method', 'path', 'body', 'signature'];
const MIN_VECTORS = 5;

/** Decodes the escapes an Apex string literal may contain. */
export function unescapeApex(text) {
    return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, esc) => {
        switch (esc[0]) {
            case 'n':
                return '\n';
            case 'r':
                return '\r';
            case 't':
                return '\t';
            case 'b':
                return '\b';
            case 'f':
                return '\f';
            case 'u':
                return String.fromCharCode(Number.parseInt(esc.slice(1), 16));
            default:
                return esc; // \' \" \\
        }
    });
}

/**
 * The arguments of every assertVector(...) call in an Apex source, decoded.
 * A call whose arguments are not all string literals is reported as such.
 */
export function apexVectorCalls(source) {
    const calls = [];
    const re = /\bassertVector\s*\(/g;
    let match;
    while ((match = re.exec(source)) !== null) {
        if (/\bvoid\s+$/.test(source.slice(Math.max(0, match.index - 40), match.index))) {
            continue; // the helper's own declaration
        }
        const args = [];
        let i = re.lastIndex;
        let nonLiteral = false;
        for (;;) {
            while (/[\s,]/.test(source[i])) {
                i++;
            }
            if (source[i] === ')' || i >= source.length) {
                break;
            }
            if (source[i] !== "'") {
                nonLiteral = true;
                break;
            }
            let j = i + 1;
            while (j < source.length && source[j] !== "'") {
                j += source[j] === '\\' ? 2 : 1;
            }
            args.push(unescapeApex(source.slice(i + 1, j)));
            i = j + 1;
        }
        calls.push({ args, nonLiteral });
        re.lastIndex = i;
    }
    return calls;
}

/** Returns the problems found in the vectors and the Apex test (empty when consistent). */
export function checkVectors(vectorsText, apexSource) {
    const problems = [];
    let doc;
    try {
        doc = JSON.parse(vectorsText);
    } catch (e) {
        return [`vectors file is not JSON: ${e.message}`];
    }
    if (doc.scheme !== 'v1') {
        problems.push(`scheme must be "v1", got ${JSON.stringify(doc.scheme)}`);
    }
    const vectors = Array.isArray(doc.vectors) ? doc.vectors : [];
    if (vectors.length < MIN_VECTORS) {
        problems.push(`expected at least ${MIN_VECTORS} vectors, got ${vectors.length}`);
    }

    const byName = new Map();
    for (const [index, v] of vectors.entries()) {
        const label = `vector ${index} (${v && v.name})`;
        const missing = [...FIELDS, 'message'].filter((f) => typeof (v && v[f]) !== 'string');
        if (missing.length > 0) {
            problems.push(`${label}: missing string field(s) ${missing.join(', ')}`);
            continue;
        }
        if (byName.has(v.name)) {
            problems.push(`${label}: duplicate name`);
        }
        byName.set(v.name, v);
        if (!isValidId18(v.orgId)) {
            problems.push(`${label}: orgId ${v.orgId} is not an 18-character id with a valid checksum suffix`);
        }
        if (!/^[A-Za-z0-9_-]{16,64}$/.test(v.nonce)) {
            problems.push(`${label}: nonce must be 16 to 64 characters of [A-Za-z0-9_-]`);
        }
        if (!/^[1-9]\d*$/.test(v.timestamp)) {
            problems.push(`${label}: timestamp must be whole Unix seconds`);
        }
        if (v.method !== 'POST') {
            problems.push(`${label}: method must be POST`);
        }
        if (!/^\/api\/crm\/[A-Za-z]+$/.test(v.path)) {
            problems.push(`${label}: path must be an /api/crm/ path without query`);
        }
        const message = canonicalMessage(v);
        if (v.message !== message) {
            problems.push(
                `${label}: message is not "v1\\n" + timestamp, nonce, orgId, method, path, body joined by "\\n"`
            );
        }
        const signature = sign(v.secret, message);
        if (v.signature !== signature) {
            problems.push(`${label}: signature ${v.signature} does not recompute; expected ${signature}`);
        }
    }

    // The Apex test must assert exactly these vectors.
    const calls = apexVectorCalls(apexSource);
    const seen = new Set();
    for (const call of calls) {
        if (call.nonLiteral || call.args.length !== FIELDS.length) {
            problems.push(
                `QwotySignerTest: an assertVector call must pass ${FIELDS.length} string literals (${FIELDS.join(', ')}), found ${call.args.length}${call.nonLiteral ? ' and a non-literal' : ''}`
            );
            continue;
        }
        const apex = Object.fromEntries(FIELDS.map((f, i) => [f, call.args[i]]));
        const json = byName.get(apex.name);
        if (!json) {
            problems.push(`QwotySignerTest: vector "${apex.name}" is not in the vectors file`);
            continue;
        }
        seen.add(apex.name);
        for (const f of FIELDS) {
            if (apex[f] !== json[f]) {
                problems.push(`QwotySignerTest: vector "${apex.name}" has a different ${f} than the vectors file`);
            }
        }
    }
    for (const name of byName.keys()) {
        if (!seen.has(name)) {
            problems.push(`QwotySignerTest: vector "${name}" of the vectors file is not asserted`);
        }
    }
    return problems;
}

function parseArgs(argv) {
    const args = {};
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (!['--vectors', '--apex'].includes(flag) || argv[i + 1] === undefined) {
            throw new Error(`usage: check-vectors.mjs [--vectors FILE] [--apex FILE] (bad argument ${flag})`);
        }
        args[flag.slice(2)] = argv[++i];
    }
    return args;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
    try {
        const args = parseArgs(process.argv.slice(2));
        const vectorsFile = resolve(args.vectors || DEFAULT_VECTORS);
        const apexFile = resolve(args.apex || DEFAULT_APEX);
        const problems = checkVectors(readFileSync(vectorsFile, 'utf8'), readFileSync(apexFile, 'utf8'));
        if (problems.length > 0) {
            console.error(`check-vectors: ${problems.length} problem(s)`);
            for (const p of problems) {
                console.error(`  - ${p}`);
            }
            process.exit(1);
        }
        const count = JSON.parse(readFileSync(vectorsFile, 'utf8')).vectors.length;
        console.log(`check-vectors: OK (${count} vectors recomputed and asserted by QwotySignerTest)`);
    } catch (e) {
        console.error(`check-vectors: ${e.message}`);
        process.exit(2);
    }
}
