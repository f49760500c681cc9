// Salesforce Code Analyzer, offline and without the sf CLI: the rules the
// AppExchange security review runs, from @salesforce/code-analyzer-core and
// its engines.
//   pmd:Apex         PMD's Apex categories (security, best practices, error
//                    prone, performance, design, code style, documentation)
//   pmd:AppExchange  the AppExchange rule set (Apex, metadata XML, LWC)
//   regex            Salesforce's regex rules (old API versions, ...)
//   sfge             the graph engine's data-flow rules: ApexFlsViolation,
//                    DatabaseOperationsMustUseWithSharing, null checks, ...
// Every finding fails the check unless code-analyzer.yml suppresses it with a
// reason (scripts/lib/suppressions.mjs); security rules cannot be suppressed.
//
//   node scripts/code-analyzer.mjs [--root DIR] [--without-sfge]
//
// Cost: about 15 s for PMD and regex; the graph engine starts a JVM with up to
// 2 GB of heap (code-analyzer.yml) and takes 40 s to a few minutes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { CodeAnalyzer, CodeAnalyzerConfig, EventType, LogLevel } from '@salesforce/code-analyzer-core';
import * as pmdEngine from '@salesforce/code-analyzer-pmd-engine';
import * as regexEngine from '@salesforce/code-analyzer-regex-engine';
import * as sfgeEngine from '@salesforce/code-analyzer-sfge-engine';
import { requireJava } from './lib/java.mjs';
import { applySuppressions, readSuppressions, reviewProblems } from './lib/suppressions.mjs';

export const SELECTORS = ['pmd:Apex', 'pmd:AppExchange', 'regex', 'sfge'];
const SEVERITY = { 1: 'Critical', 2: 'High', 3: 'Moderate', 4: 'Low', 5: 'Info' };

/**
 * Runs the selected rules on root/force-app with root/code-analyzer.yml and
 * returns { rules, kept, suppressed, entries, problems, seconds }.
 */
export async function analyze(root, { selectors = SELECTORS, log = () => {} } = {}) {
    const started = Date.now();
    const config = yaml.load(readFileSync(join(root, 'code-analyzer.yml'), 'utf8')) || {};
    const { entries, problems } = readSuppressions(config.suppressions, root);
    const java = requireJava();
    // The engines keep their working files (PMD's rule set and results) after a
    // run; they go into a folder of this run's own, removed at the end.
    const workDir = mkdtempSync(join(tmpdir(), 'qwoty-code-analyzer-'));
    try {
        const { rules, violations, errors } = await runRules(root, config, { java, workDir, selectors, log });
        const { kept, suppressed } = applySuppressions(violations, entries);
        const securityRules = new Set(
            rules
                .filter(({ rule }) => rule.getTags().includes('Security'))
                .map(({ engine, rule }) => `${engine}:${rule.getName()}`)
        );
        // Stale entries are only known when every engine ran.
        const fullRun = selectors === SELECTORS;
        const review = reviewProblems(entries, securityRules).filter(
            (p) => fullRun || !p.includes('matched no finding')
        );
        return {
            rules,
            kept,
            suppressed,
            entries,
            problems: [...problems, ...review, ...errors.map((e) => `Code Analyzer error: ${e}`)],
            seconds: (Date.now() - started) / 1000
        };
    } finally {
        rmSync(workDir, { recursive: true, force: true });
    }
}

/** Runs the selected rules on root/force-app and returns the rules, their findings and the engines' errors. */
async function runRules(root, config, { java, workDir, selectors, log }) {
    const engines = config.engines || {};
    // Code Analyzer's own suppressions (the same entries, and inline markers in
    // the sources) are turned off: analyze() applies the entries, with review.
    const analyzer = new CodeAnalyzer(
        CodeAnalyzerConfig.fromObject(
            {
                ...config,
                root_working_folder: workDir,
                engines: {
                    ...engines,
                    pmd: { java_command: java, ...engines.pmd },
                    sfge: { java_command: java, ...engines.sfge }
                },
                suppressions: { disable_suppressions: true }
            },
            root
        )
    );
    const errors = [];
    analyzer.onEvent(EventType.LogEvent, (event) => {
        if (event.logLevel === LogLevel.Error) {
            errors.push(event.message);
        }
    });
    for (const engine of [pmdEngine, regexEngine, sfgeEngine]) {
        await analyzer.addEnginePlugin(engine.createEnginePlugin());
    }
    const workspace = await analyzer.createWorkspace([join(root, 'force-app')]);
    const selection = await analyzer.selectRules(selectors, { workspace });
    const rules = selection
        .getEngineNames()
        .flatMap((engine) => selection.getRulesFor(engine).map((r) => ({ engine, rule: r })));
    log(
        `running ${rules.length} rules (${selection
            .getEngineNames()
            .map((e) => `${e} ${selection.getRulesFor(e).length}`)
            .join(', ')})`
    );
    const results = await analyzer.run(selection, { workspace });
    const violations = results.getViolations().map((v) => {
        const rule = v.getRule();
        const location = v.getPrimaryLocation();
        const file = location.getFile();
        return {
            engine: rule.getEngineName(),
            rule: rule.getName(),
            severity: rule.getSeverityLevel(),
            tags: rule.getTags(),
            file: file ? relative(root, file) : null,
            line: location.getStartLine(),
            message: v.getMessage().replace(/\s+/g, ' ').trim()
        };
    });
    return { rules, violations, errors };
}

/** One line per finding: file:line severity engine:Rule message. */
export function formatViolation(v) {
    return `${v.file || '(no file)'}:${v.line ?? '?'} ${SEVERITY[v.severity] || v.severity} ${v.engine}:${v.rule} ${v.message}`;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
    const args = process.argv.slice(2);
    let root = join(dirname(fileURLToPath(import.meta.url)), '..');
    let selectors = SELECTORS;
    for (let i = 0; i < args.length; i++) {
        if (args[i] === '--root' && args[i + 1]) {
            root = args[++i];
        } else if (args[i] === '--without-sfge') {
            selectors = SELECTORS.filter((s) => s !== 'sfge');
        } else {
            console.error('usage: code-analyzer.mjs [--root DIR] [--without-sfge]');
            process.exit(2);
        }
    }
    root = resolve(root);
    try {
        const result = await analyze(root, { selectors, log: (m) => console.log(`code-analyzer: ${m}`) });
        const byEntry = result.entries.filter((e) => e.used > 0);
        console.log(
            `code-analyzer: ${result.suppressed.length} finding(s) suppressed by ${byEntry.length} reviewed entr${byEntry.length === 1 ? 'y' : 'ies'} of code-analyzer.yml (${result.seconds.toFixed(0)} s)`
        );
        if (result.kept.length > 0 || result.problems.length > 0) {
            if (result.kept.length > 0) {
                console.error(
                    `code-analyzer: ${result.kept.length} finding(s): fix them, or suppress one with its reason in code-analyzer.yml`
                );
                for (const v of result.kept) {
                    console.error(`  - ${formatViolation(v)}`);
                }
            }
            for (const p of result.problems) {
                console.error(`  - ${p}`);
            }
            process.exit(1);
        }
        console.log('code-analyzer: OK, no finding left');
    } catch (e) {
        console.error(`code-analyzer: ${e.stack || e.message}`);
        process.exit(2);
    }
}
