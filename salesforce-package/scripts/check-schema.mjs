// Checks every -meta.xml of the package against the Metadata API's types
// (@salesforce/types, lib/metadata.d.ts): the root element is a metadata type,
// every element is a field of its parent's type, single fields appear once,
// required fields are there, and booleans, numbers and enumeration values are
// valid. check-metadata.mjs checks what the types cannot say (names that point
// at each other, URLs, the package's own rules).
//
//   node scripts/check-schema.mjs [--root DIR]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { isMetadataType, loadSchema, validateElement } from './lib/metadata-schema.mjs';

/**
 * Fields whose content is not Metadata API XML, with the reason. The
 * declarations type them as plain strings.
 */
export const OPAQUE_FIELDS = {
    // A component's targetConfigs follow the js-meta.xml configuration schema
    // (targets, objects, properties), which the Metadata API carries as a blob.
    'LightningComponentBundle.targetConfigs': 'LWC configuration file format'
};

const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseTagValue: false,
    trimValues: true,
    ignoreDeclaration: true
});

function metaFiles(dir) {
    const out = [];
    for (const name of readdirSync(dir).sort()) {
        const full = join(dir, name);
        if (statSync(full).isDirectory()) {
            if (name !== '__tests__' && name !== 'node_modules') {
                out.push(...metaFiles(full));
            }
        } else if (name.endsWith('-meta.xml')) {
            out.push(full);
        }
    }
    return out;
}

/** Returns the problems of every -meta.xml under root/force-app (empty when all conform). */
export function checkSchema(root, schema = loadSchema()) {
    const problems = [];
    const files = metaFiles(join(root, 'force-app'));
    if (files.length === 0) {
        problems.push(`no -meta.xml file under ${join(root, 'force-app')}`);
    }
    for (const file of files) {
        const name = relative(root, file);
        const text = readFileSync(file, 'utf8');
        const valid = XMLValidator.validate(text);
        if (valid !== true) {
            problems.push(`${name}: not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
            continue;
        }
        const roots = parser.parse(text).filter((n) => !Object.keys(n).every((k) => k === '#text' || k === ':@'));
        if (roots.length !== 1) {
            problems.push(`${name}: expected one root element, found ${roots.length}`);
            continue;
        }
        const tag = Object.keys(roots[0]).find((k) => k !== ':@');
        if (!isMetadataType(schema, tag)) {
            problems.push(`${name}: <${tag}> is not a Metadata API type`);
            continue;
        }
        for (const p of validateElement(schema, tag, roots[0][tag], tag, OPAQUE_FIELDS)) {
            problems.push(`${name}: ${p}`);
        }
    }
    return problems;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
    const args = process.argv.slice(2);
    if (args.length !== 0 && !(args.length === 2 && args[0] === '--root')) {
        console.error('usage: check-schema.mjs [--root DIR]');
        process.exit(2);
    }
    const root = resolve(args[1] || join(dirname(fileURLToPath(import.meta.url)), '..'));
    const problems = checkSchema(root);
    if (problems.length > 0) {
        console.error(`check-schema: ${problems.length} problem(s) against the Metadata API types`);
        for (const p of problems) {
            console.error(`  - ${p}`);
        }
        process.exit(1);
    }
    console.log(`check-schema: OK, every -meta.xml conforms to the Metadata API types (${root})`);
}
