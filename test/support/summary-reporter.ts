import type { Reporter, TestModule } from 'vitest/node';

// Prints one plain closing line, `Tests: N passed, N failed, N skipped`, that any CI log reader
// understands. A suite that skipped its real-host tests shows them here as skipped, not passed.
// Before it, the slowest files with their seconds: the CI has a time budget, and the real-host
// files (which run one at a time) are where it goes.

const slowestShown = 12;

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed += 1;
        else if (state === 'failed') failedHere += 1;
        else counts.skipped += 1;
      }
      // A file that failed to load, or whose beforeAll failed (its tests then show as skipped),
      // must still count as a failure.
      if (module.state() === 'failed' && failedHere === 0) failedHere = 1;
      counts.failed += failedHere;
    }
    process.stdout.write(slowestFiles(testModules));
    process.stdout.write(`\nTests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}

function slowestFiles(testModules: ReadonlyArray<TestModule>): string {
  const timed = testModules.map((module) => {
    const diagnostic = module.diagnostic();
    return { file: module.relativeModuleId, seconds: (diagnostic.collectDuration + diagnostic.duration) / 1000 };
  });
  const total = timed.reduce((sum, { seconds }) => sum + seconds, 0);
  const lines = timed
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, slowestShown)
    .map(({ file, seconds }) => `  ${seconds.toFixed(1).padStart(7)} s  ${file}`);
  return `\nSlowest files (of ${total.toFixed(0)} s in ${timed.length} files):\n${lines.join('\n')}\n`;
}
