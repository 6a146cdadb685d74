// The tests' one polling helper: it returns what the condition found, treats
// undefined/false/throwing as "not yet", and on timeout names what it waited for.
import t from 'tap';
import { waitFor } from '../envtest/wait';

t.test('returns the first value that is neither undefined nor false; sync conditions too', async (t) => {
  let calls = 0;
  const found = await waitFor(() => (++calls >= 3 ? { at: calls } : false), { what: 'the third call', intervalMs: 1 });
  t.same(found, { at: 3 });
  t.equal(await waitFor(() => 0, { what: 'zero' }), 0, 'a falsy value other than false is an answer');
});

t.test('a timeout names what was awaited and the error of the last attempt only', async (t) => {
  await t.rejects(
    waitFor(
      () => {
        throw new Error('connection refused');
      },
      { what: 'the upstream to answer', timeoutMs: 30, intervalMs: 5 },
    ),
    { code: 'KDLP_ENVTEST_TIMEOUT', message: 'timed out waiting for the upstream to answer: last error: connection refused' },
  );
  let calls = 0;
  await t.rejects(
    waitFor(
      () => {
        if (++calls === 1) throw new Error('first attempt failed');
        return undefined;
      },
      { what: 'the reload', timeoutMs: 30, intervalMs: 5 },
    ),
    { message: 'timed out waiting for the reload' },
    'an error from an earlier attempt is not reported as the reason',
  );
  await t.rejects(waitFor(() => false, { what: 'nothing', timeoutMs: 20, intervalMs: 5 }), {
    message: 'timed out waiting for nothing',
  });
});
