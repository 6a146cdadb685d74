// The proxy image follows the operator's own container image.
import t from 'tap';
import { imageOf } from '../../operator/webhook/own-image';
import { WebhookOptionsError } from '../../operator/errors';
import type { Pod } from '../../operator/inject/pod';

const pod = (containers: Array<{ name: string; image?: string }>): Pod =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'op', namespace: 'ns' }, spec: { containers } }) as unknown as Pod;

t.test("the operator container's image, even beside other containers", async (t) => {
  t.equal(imageOf(pod([{ name: 'operator', image: 'reg.example/kube-dlp:1.2' }]), 'ns/op'), 'reg.example/kube-dlp:1.2');
  t.equal(imageOf(pod([{ name: 'istio-proxy', image: 'istio' }, { name: 'operator', image: 'mine:2' }]), 'ns/op'), 'mine:2');
  t.equal(imageOf(pod([{ name: 'renamed', image: 'only:3' }]), 'ns/op'), 'only:3', 'a lone container is the operator');
});

t.test('no way to tell which image is ours: a clear error naming the flag', async (t) => {
  t.throws(() => imageOf(pod([{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }]), 'ns/op'), WebhookOptionsError);
  t.throws(() => imageOf(pod([{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }]), 'ns/op'), /set --proxy-image/);
  t.throws(() => imageOf(pod([{ name: 'operator' }]), 'ns/op'), /ns\/op/);
});
