// Cryptocurrency: addresses (public, but they tie a person to funds) and
// private keys (they spend them). Bitcoin formats carry checksums, so these
// detectors are near-exact; Ethereum addresses are shape-only (no Keccak in
// node:crypto for the EIP-55 check).
import type { DetectorSpec } from '../types';

const BASE58 = '[1-9A-HJ-NP-Za-km-z]';

export const CRYPTO_WALLET_DETECTORS: readonly DetectorSpec[] = [
  {
    id: 'pii.btc-address',
    name: 'Bitcoin address',
    category: 'pii',
    severity: 'low',
    action: 'monitor',
    patterns: [
      String.raw`\b[13]${BASE58}{25,34}\b`,
      String.raw`\bbc1[02-9ac-hj-np-z]{11,71}\b`,
      String.raw`\bBC1[02-9AC-HJ-NP-Z]{11,71}\b`,
    ],
    validator: 'btc-address',
    contextWords: ['bitcoin', 'btc', 'wallet', 'address', 'send'],
    description: 'Legacy (Base58Check) and segwit (bech32/bech32m) mainnet addresses.',
    examples: {
      positive: [
        'send to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2',
        'btc: 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy',
        'wallet bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
        'taproot bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0',
      ],
      negative: [
        'send to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3', // checksum
        'wallet bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5', // checksum
        'wallet bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', // mixed case
      ],
    },
  },
  {
    id: 'pii.eth-address',
    name: 'Ethereum address',
    category: 'pii',
    severity: 'low',
    action: 'monitor',
    patterns: [String.raw`\b0x[0-9a-fA-F]{40}\b`],
    validator: 'eth-address',
    contextWords: ['ethereum', 'eth', 'wallet', 'address', 'erc20', 'metamask'],
    confidence: 0.5,
    description: 'Ethereum (and EVM-chain) account addresses; mixed-case ones must carry a valid EIP-55 checksum; the zero address and fills are ignored.',
    examples: {
      positive: ['"to": "0x52908400098527886E0F7030069857D2E4169EE7"', 'eth wallet 0xde709f2102306220921060314715629080e2fb77', 'pay 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'],
      negative: ['burn 0x0000000000000000000000000000000000000000', 'hash 0x52908400098527886E0F7030069857D2E4169EE7AB', 'typo 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'],
    },
  },
  {
    id: 'secret.btc-wif-private-key',
    name: 'Bitcoin private key (WIF)',
    category: 'secret',
    severity: 'critical',
    action: 'block',
    // Mainnet only (5, K, L): testnet keys guard nothing, and each extra
    // leading character measurably slows the whole Vectorscan database.
    patterns: [String.raw`\b[5KL]${BASE58}{50,51}\b`],
    validator: 'btc-wif',
    contextWords: ['private', 'wif', 'key', 'wallet', 'bitcoin'],
    description: 'Wallet Import Format mainnet private keys, compressed and uncompressed.',
    examples: {
      positive: [
        'privkey=5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ',
        'importprivkey KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617',
      ],
      negative: ['privkey=5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTK', 'id=5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqv'],
    },
  },
  {
    id: 'secret.btc-extended-private-key',
    name: 'Bitcoin extended private key (BIP-32)',
    category: 'secret',
    severity: 'critical',
    action: 'block',
    patterns: [String.raw`\b[xyzt]prv${BASE58}{107,108}\b`],
    validator: 'btc-extended-private-key',
    contextWords: ['xprv', 'extended', 'hd wallet', 'bip32', 'seed'],
    description: 'xprv/yprv/zprv/tprv keys: every key of an HD wallet derives from one of these.',
    examples: {
      positive: [
        'xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi',
        '"seed": "xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqPqm55Qn3LqFtT2emdEXVYsCzC2U"',
      ],
      negative: [
        'xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHj',
        'xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8',
      ],
    },
  },
];
