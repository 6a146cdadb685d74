// The same split-anywhere suite for Vectorscan's fallback streams
// (overlapped block scans), which run when libhs's stream mode fails its
// self-test: the fallback must be as correct as the default.
import t from 'tap';
import { streamingSuite } from './streaming-suite';
import { loadNativeBinding } from '../../proxy/native';

const native = loadNativeBinding();
if (!native.ok) {
  t.fail(`Vectorscan addon not loaded: ${native.reason}`);
} else {
  streamingSuite(t, 'vectorscan', 'carry');
}
