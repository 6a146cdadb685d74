// Worker-thread entry: validates profiles off the operator's event loop. A
// full detector-set compile takes seconds; on the main thread it would stall
// watches and, worse, Lease renewals.
import { parentPort } from 'node:worker_threads';
import { validateProfile } from '../decide/validate-profile';
import type { ValidationRequest, ValidationResponse } from './profile-validator';

parentPort?.on('message', (req: ValidationRequest) => {
  let res: ValidationResponse;
  try {
    res = { id: req.id, result: validateProfile(req.profile, { engine: req.engine }) };
  } catch (err) {
    res = { id: req.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  parentPort!.postMessage(res);
});
