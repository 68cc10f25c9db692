// A node:test reporter that counts leaf tests (not suites) and writes {passed, failed, skipped} as JSON.
export default async function* countReporter(source) {
  const total = { passed: 0, failed: 0, skipped: 0 };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data;
    if (d.details?.type === 'suite') {
      // A suite that failed outside its tests (a hook, a crash) must still count as a failure.
      if (event.type === 'test:fail' && d.details?.error?.failureType !== 'subtestsFailed') total.failed++;
      continue;
    }
    if (d.skip || d.todo) total.skipped++;
    else if (event.type === 'test:pass') total.passed++;
    else total.failed++;
  }
  yield JSON.stringify(total);
}
