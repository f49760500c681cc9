// The Metadata API's types, read from the TypeScript declarations that
// Salesforce publishes in @salesforce/types (lib/metadata.d.ts), and a
// validator of parsed -meta.xml documents against them.
//
// The declarations are regular: enumerations are unions of string literals,
// complex types are `Base & { field?: Type; list: Type[]; }`, and a field
// without `?` is required (lists may be empty). Only that subset is read; a
// declaration in another shape stops the parse, so that a newer @salesforce/types
// cannot silently weaken the check.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const PRIMITIVES = new Set(['string', 'boolean', 'number', 'any', 'unknown']);

/** Reads metadata.d.ts of the installed @salesforce/types. */
export function loadSchema() {
    // The package exports lib/metadata.js only; the declarations sit beside it.
    const require = createRequire(import.meta.url);
    const file = join(dirname(require.resolve('@salesforce/types/metadata')), 'metadata.d.ts');
    return parseDeclarations(readFileSync(file, 'utf8'));
}

/**
 * Parses the declarations into { enums, aliases, structs }:
 *   enums:   name -> Set of allowed values
 *   aliases: name -> the name it stands for (a primitive or another type)
 *   structs: name -> { bases: [names], fields: Map(name -> { type, list, optional }) }
 */
export function parseDeclarations(text) {
    const enums = new Map();
    const aliases = new Map();
    const structs = new Map();
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (line.trim() === '') {
            continue;
        }
        let m = /^export type (\w+) = ((?:'[^']*')(?: \| '[^']*')*);$/.exec(line);
        if (m) {
            enums.set(m[1], new Set([...m[2].matchAll(/'([^']*)'/g)].map((v) => v[1])));
            continue;
        }
        m = /^export type (\w+) = (\w+);$/.exec(line);
        if (m) {
            aliases.set(m[1], m[2]);
            continue;
        }
        m = /^export type (\w+) = ((?:\w+ & )*)\{$/.exec(line);
        if (m) {
            const fields = new Map();
            const bases = m[2] ? m[2].split(' & ').filter(Boolean) : [];
            for (i++; i < lines.length && lines[i] !== '};'; i++) {
                const f = /^ {4}(\w+)(\??): (\w+)(\[\])?;$/.exec(lines[i]);
                if (!f) {
                    throw new Error(
                        `metadata.d.ts line ${i + 1}: unexpected field declaration ${JSON.stringify(lines[i])}`
                    );
                }
                fields.set(f[1], { type: f[3], list: f[4] === '[]', optional: f[2] === '?' });
            }
            structs.set(m[1], { bases, fields });
            continue;
        }
        throw new Error(`metadata.d.ts line ${i + 1}: unexpected declaration ${JSON.stringify(line.slice(0, 120))}`);
    }
    return { enums, aliases, structs };
}

/** Follows aliases to a primitive, an enumeration or a complex type. */
function resolve(schema, name) {
    const seen = new Set();
    let current = name;
    while (schema.aliases.has(current) && !seen.has(current)) {
        seen.add(current);
        current = schema.aliases.get(current);
    }
    if (PRIMITIVES.has(current)) {
        return { kind: 'primitive', name: current };
    }
    if (schema.enums.has(current)) {
        return { kind: 'enum', name: current, values: schema.enums.get(current) };
    }
    if (schema.structs.has(current)) {
        return { kind: 'struct', name: current };
    }
    return { kind: 'missing', name: current };
}

/** Every field of a complex type, its own and its bases'. */
export function fieldsOf(schema, typeName) {
    const struct = schema.structs.get(typeName);
    const fields = new Map();
    if (!struct) {
        return fields;
    }
    for (const base of struct.bases) {
        const resolved = resolve(schema, base);
        if (resolved.kind === 'struct') {
            for (const [name, field] of fieldsOf(schema, resolved.name)) {
                fields.set(name, field);
            }
        }
    }
    for (const [name, field] of struct.fields) {
        fields.set(name, field);
    }
    return fields;
}

/** True when typeName is Metadata or extends it: the types a -meta.xml file can hold. */
export function isMetadataType(schema, typeName, seen = new Set()) {
    if (typeName === 'Metadata') {
        return true;
    }
    const struct = schema.structs.get(typeName);
    if (!struct || seen.has(typeName)) {
        return false;
    }
    seen.add(typeName);
    return struct.bases.some((b) => isMetadataType(schema, resolve(schema, b).name, seen));
}

const tagOf = (node) => Object.keys(node).find((k) => k !== ':@');

/**
 * Checks one element (in fast-xml-parser's preserveOrder form) against a type
 * and returns the problems found, each naming the element path. opaque lists
 * "Type.field" whose content is not Metadata API XML (and why).
 */
export function validateElement(schema, typeName, children, path, opaque = {}) {
    const problems = [];
    const type = resolve(schema, typeName);
    const elements = children.filter((c) => tagOf(c) !== '#text');
    const text = children
        .filter((c) => tagOf(c) === '#text')
        .map((c) => String(c['#text']))
        .join('')
        .trim();

    if (type.kind === 'missing') {
        return [`${path}: the schema has no type ${typeName}`];
    }
    if (type.kind !== 'struct') {
        if (elements.length > 0) {
            problems.push(`${path}: <${tagOf(elements[0])}> inside a ${typeName} value, which holds text only`);
        }
        if (type.kind === 'enum' && !type.values.has(text)) {
            const allowed = [...type.values];
            const shown = allowed.length > 12 ? `${allowed.slice(0, 12).join(', ')}, ...` : allowed.join(', ');
            problems.push(`${path}: ${JSON.stringify(text)} is not a ${typeName} (allowed: ${shown})`);
        } else if (type.name === 'boolean' && text !== 'true' && text !== 'false') {
            problems.push(`${path}: ${JSON.stringify(text)} is not a boolean (true or false)`);
        } else if (type.name === 'number' && !/^-?\d+(\.\d+)?$/.test(text)) {
            problems.push(`${path}: ${JSON.stringify(text)} is not a number`);
        }
        return problems;
    }

    if (text !== '') {
        problems.push(
            `${path}: text ${JSON.stringify(text.slice(0, 40))} inside ${typeName}, which holds elements only`
        );
    }
    const fields = fieldsOf(schema, type.name);
    const counts = new Map();
    for (const element of elements) {
        const tag = tagOf(element);
        counts.set(tag, (counts.get(tag) || 0) + 1);
        const field = fields.get(tag);
        if (!field) {
            problems.push(`${path}: <${tag}> is not a field of ${type.name}`);
            continue;
        }
        const where = `${path}/${tag}`;
        if (opaque[`${type.name}.${tag}`]) {
            continue;
        }
        problems.push(...validateElement(schema, field.type, element[tag], where, opaque));
    }
    for (const [name, field] of fields) {
        const count = counts.get(name) || 0;
        if (!field.list && count > 1) {
            problems.push(`${path}: <${name}> appears ${count} times, ${type.name} allows one`);
        }
        if (!field.list && !field.optional && count === 0) {
            problems.push(`${path}: <${type.name}> requires <${name}>`);
        }
    }
    return problems;
}
