// A value split across any chunk boundary must be found with whole-stream
// offsets: every default detector's examples, split at every point.
import t from 'tap';
import { streamingSuite } from './streaming-suite';

streamingSuite(t, 're2');
