// A value split across any chunk boundary must be found with whole-stream
// offsets: every default detector's examples, split at every point.
import t from 'tap';
import { streamingSuite } from './streaming-suite';
import { loadNativeBinding } from '../../proxy/native';

const native = loadNativeBinding();
if (!native.ok) {
  t.fail(`Vectorscan addon not loaded: ${native.reason}`);
} else {
  streamingSuite(t, 'vectorscan');
}
