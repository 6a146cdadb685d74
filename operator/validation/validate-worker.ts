// Child-process entry: validates profiles outside the operator process. A
// full detector-set compile takes seconds and tens of MiB; in the operator it
// would stall watches and Lease renewals, and leave its memory behind (the
// allocator keeps what a compile touched). This process exits when the
// operator stops using it, or dies.
import { validateProfile } from '../decide/validate-profile';
import type { ValidationRequest, ValidationResponse } from './profile-validator';

process.on('message', (req: ValidationRequest) => {
  let res: ValidationResponse;
  try {
    res = { id: req.id, result: validateProfile(req.profile, { engine: req.engine }) };
  } catch (err) {
    res = { id: req.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  process.send?.(res);
});
// The operator closed the channel (idle, shutdown, or it was killed): nothing left to do.
process.on('disconnect', () => process.exit(0));
