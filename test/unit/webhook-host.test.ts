// --webhook-host HOST[:PORT]: where the operator listens, what its
// certificate names and the URL the API server calls.
import t from 'tap';
import { parseWebhookHost } from '../../operator/webhook/webhook-host';
import { WebhookOptionsError } from '../../operator/errors';

t.test('IPv4, IPv6 and DNS names, with the default port 9443', async (t) => {
  t.same(parseWebhookHost('192.168.1.20'), {
    listen: { host: '192.168.1.20', port: 9443 },
    url: 'https://192.168.1.20:9443/inject',
    dnsNames: [],
    ipAddresses: ['192.168.1.20'],
  });
  t.same(parseWebhookHost('[fd00::5]:8443'), {
    listen: { host: 'fd00::5', port: 8443 },
    url: 'https://[fd00::5]:8443/inject',
    dnsNames: [],
    ipAddresses: ['fd00::5'],
  });
  t.same(parseWebhookHost('dev-box.example:10250'), {
    listen: { host: 'dev-box.example', port: 10250 },
    url: 'https://dev-box.example:10250/inject',
    dnsNames: ['dev-box.example'],
    ipAddresses: [],
  });
});

t.test('bad input is refused naming the flag and the mistake', async (t) => {
  for (const [text, why] of [
    ['', /expected HOST\[:PORT\]/],
    ['host:0', /expected HOST\[:PORT\]/],
    ['host:70000', /expected HOST\[:PORT\]/],
    ['https://host:9443', /expected HOST\[:PORT\]/],
    ['fd00::5', /expected HOST\[:PORT\]/],
    ['under_score.example', /neither an IP address nor a DNS name/],
    ['0.0.0.0:9443', /not a wildcard/],
    ['[::]:9443', /not a wildcard/],
  ] as const) {
    t.throws(() => parseWebhookHost(text), WebhookOptionsError, text);
    t.throws(() => parseWebhookHost(text), why, text);
  }
});
