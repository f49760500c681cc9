// The reviewed suppressions of code-analyzer.yml: entries need a reason and
// one rule, apply to a file or a folder up to their ceiling, and the review
// refuses suppressed security rules and entries that match nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { applySuppressions, readSuppressions, reviewProblems } from '../lib/suppressions.mjs';

const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLASSES = 'force-app/main/default/classes';
const REASON = 'a reason long enough to say why this is not a defect';

const violation = (engine, rule, file) => ({ engine, rule, file, line: 1, message: 'm' });

test('the committed code-analyzer.yml reads without problems, every entry with a reason', () => {
    const config = yaml.load(readFileSync(join(PROJECT, 'code-analyzer.yml'), 'utf8'));
    const { entries, problems } = readSuppressions(config.suppressions, PROJECT);
    assert.deepEqual(problems, []);
    assert.ok(entries.length > 0);
    for (const e of entries) {
        assert.ok(e.reason.length >= 20, `${e.path} ${e.rule}`);
    }
});

test('refuses entries without a reason, with a vague selector, or for files that do not exist', () => {
    const { entries, problems } = readSuppressions(
        {
            [`${CLASSES}/QwotySigner.cls`]: [
                { rule_selector: 'pmd:ApexDoc' },
                { rule_selector: 'pmd:ApexDoc', reason: 'noise' },
                { rule_selector: 'Documentation', reason: REASON },
                { rule_selector: 'pmd:ApexDoc', reason: REASON, max_suppressed_violations: 0 },
                { rule_selector: 'pmd:ApexDoc', reason: REASON, scope: 'all' }
            ],
            [`${CLASSES}/Gone.cls`]: [{ rule_selector: 'pmd:ApexDoc', reason: REASON }],
            '../outside.cls': [{ rule_selector: 'pmd:ApexDoc', reason: REASON }],
            disable_suppressions: true
        },
        PROJECT
    );
    assert.equal(entries.length, 1, 'only the Gone.cls entry is well-formed');
    const expected = [
        /QwotySigner\.cls \[0\] \(pmd:ApexDoc\): every suppression needs a reason/,
        /QwotySigner\.cls \[1\] \(pmd:ApexDoc\): every suppression needs a reason/,
        /QwotySigner\.cls \[2\]: rule_selector must name one rule as engine:Rule, got "Documentation"/,
        /QwotySigner\.cls \[3\] \(pmd:ApexDoc\): max_suppressed_violations must be a positive integer/,
        /QwotySigner\.cls \[4\] \(pmd:ApexDoc\): unknown key\(s\) scope/,
        /Gone\.cls does not exist/,
        /\.\.\/outside\.cls must be relative to the project/,
        /disable_suppressions: leave it out/
    ];
    for (const pattern of expected) {
        assert.ok(
            problems.some((p) => pattern.test(p)),
            `expected ${pattern} in:\n${problems.join('\n')}`
        );
    }
});

test('an entry covers its file, or every file under its folder, for its one rule, up to its ceiling', () => {
    const { entries } = readSuppressions(
        {
            [CLASSES]: [{ rule_selector: 'pmd:ApexDoc', reason: REASON }],
            [`${CLASSES}/QwotySignerTest.cls`]: [
                { rule_selector: 'pmd:AvoidHardcodingId', reason: REASON, max_suppressed_violations: 2 }
            ]
        },
        PROJECT
    );
    const { kept, suppressed } = applySuppressions(
        [
            violation('pmd', 'ApexDoc', `${CLASSES}/QwotySigner.cls`),
            violation('pmd', 'ApexDoc', `${CLASSES}/QwotyPing.cls`),
            violation('pmd', 'ApexDoc', 'force-app/main/default/lwc/qwotyCardView/qwotyCardView.js'),
            violation('pmd', 'ApexDoc', `${CLASSES}-other/X.cls`),
            violation('pmd', 'AvoidHardcodingId', `${CLASSES}/QwotySignerTest.cls`),
            violation('pmd', 'AvoidHardcodingId', `${CLASSES}/QwotySignerTest.cls`),
            violation('pmd', 'AvoidHardcodingId', `${CLASSES}/QwotySignerTest.cls`),
            violation('pmd', 'AvoidHardcodingId', `${CLASSES}/QwotySigner.cls`),
            violation('sfge', 'ApexDoc', `${CLASSES}/QwotySigner.cls`)
        ],
        entries
    );
    assert.equal(suppressed.length, 4);
    assert.deepEqual(
        kept.map((v) => `${v.engine}:${v.rule} ${v.file}`),
        [
            'pmd:ApexDoc force-app/main/default/lwc/qwotyCardView/qwotyCardView.js',
            `pmd:ApexDoc ${CLASSES}-other/X.cls`,
            `pmd:AvoidHardcodingId ${CLASSES}/QwotySignerTest.cls`,
            `pmd:AvoidHardcodingId ${CLASSES}/QwotySigner.cls`,
            `sfge:ApexDoc ${CLASSES}/QwotySigner.cls`
        ]
    );
    assert.deepEqual(
        entries.map((e) => e.used),
        [2, 2]
    );
});

test('the review refuses suppressed security rules and entries that matched nothing', () => {
    const { entries } = readSuppressions(
        {
            [`${CLASSES}/QwotyCardViewController.cls`]: [
                { rule_selector: 'sfge:ApexFlsViolation', reason: REASON },
                { rule_selector: 'pmd:ApexDoc', reason: REASON }
            ]
        },
        PROJECT
    );
    applySuppressions([violation('sfge', 'ApexFlsViolation', `${CLASSES}/QwotyCardViewController.cls`)], entries);
    const problems = reviewProblems(entries, new Set(['sfge:ApexFlsViolation']));
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0], /suppresses sfge:ApexFlsViolation, a security rule: fix the code instead/);
    assert.match(problems[1], /pmd:ApexDoc matched no finding: remove the stale entry/);
});
