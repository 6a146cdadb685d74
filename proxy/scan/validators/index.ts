// The validator table detectors refer to by name (DetectorSpec.validator).
// Names are part of the profile format (custom detectors may use them), so
// they are stable: add new ones, never rename.
import type { Validator } from '../types';
import { ageSecretKey } from './age-secret-key';
import { caSin, usAbaRouting, usItin, usNpi } from './americas-ids';
import { auAbn, auAcn, auMedicare, auTfn, cnResidentId, inPan, krRrn, sgNric } from './apac-ids';
import { beNationalNumber, fiHetu, iePps, itPartitaIva, plPesel, ptNif, roCnp, sePersonnummer } from './eu-ids';
import { ukDrivingLicence, usDeaNumber, usDriversLicense } from './licences';
import { ipAddress, macAddress } from './network-addresses';
import { ukNhsNumber } from './uk-nhs';
import { awsAccessKeyId, awsSecretKey } from './aws';
import { azureSasSignature } from './azure-sas';
import { brCpf } from './br-cpf';
import { btcAddress, btcExtendedPrivateKey, btcWif } from './btc';
import { deTaxId } from './de-tax-id';
import { discordBotToken } from './discord';
import { email } from './email';
import { entropy } from './entropy';
import { esDni } from './es-dni';
import { ethAddress } from './eth-address';
import { frNir } from './fr-nir';
import { httpBasicAuth } from './http-basic';
import { iban } from './iban';
import { inAadhaar } from './in-aadhaar';
import { itCodiceFiscale } from './it-codice-fiscale';
import { jwt } from './jwt';
import { cardTrackData, luhnCard } from './luhn-card';
import { nlBsn } from './nl-bsn';
import { pemPrivateKey } from './pem';
import { phoneE164 } from './phone-e164';
import { genericSecret, urlPassword } from './secret-value';
import { ukNino } from './uk-nino';
import { usSsn } from './us-ssn';
import { githubChecksum, token } from './vendor-token';

export { shannonEntropy } from './entropy';

export const VALIDATORS: Readonly<Record<string, Validator>> = Object.freeze({
  // payment cards
  'luhn-card': luhnCard,
  'card-track-data': cardTrackData,
  // banking and personal data
  iban,
  email,
  'phone-e164': phoneE164,
  'us-ssn': usSsn,
  'uk-nino': ukNino,
  'es-dni': esDni,
  'nl-bsn': nlBsn,
  'de-tax-id': deTaxId,
  'fr-nir': frNir,
  'it-codice-fiscale': itCodiceFiscale,
  'br-cpf': brCpf,
  'in-aadhaar': inAadhaar,
  'us-itin': usItin,
  'us-npi': usNpi,
  'us-aba-routing': usAbaRouting,
  'ca-sin': caSin,
  'uk-nhs-number': ukNhsNumber,
  'pl-pesel': plPesel,
  'se-personnummer': sePersonnummer,
  'fi-hetu': fiHetu,
  'be-national-number': beNationalNumber,
  'ro-cnp': roCnp,
  'pt-nif': ptNif,
  'ie-pps': iePps,
  'in-pan': inPan,
  'sg-nric': sgNric,
  'au-tfn': auTfn,
  'au-medicare': auMedicare,
  'cn-resident-id': cnResidentId,
  'kr-rrn': krRrn,
  'au-abn': auAbn,
  'au-acn': auAcn,
  'it-partita-iva': itPartitaIva,
  // licence numbers
  'us-drivers-license': usDriversLicense,
  'uk-driving-licence': ukDrivingLicence,
  'us-dea-number': usDeaNumber,
  'ip-address': ipAddress,
  'mac-address': macAddress,
  // crypto wallets and keys
  'btc-address': btcAddress,
  'btc-wif': btcWif,
  'btc-extended-private-key': btcExtendedPrivateKey,
  'eth-address': ethAddress,
  'age-secret-key': ageSecretKey,
  'pem-private-key': pemPrivateKey,
  // credentials
  jwt,
  'http-basic-auth': httpBasicAuth,
  'url-password': urlPassword,
  'generic-secret': genericSecret,
  'aws-access-key-id': awsAccessKeyId,
  'aws-secret-key': awsSecretKey,
  'azure-sas-signature': azureSasSignature,
  'discord-bot-token': discordBotToken,
  'github-checksum': githubChecksum,
  token,
  entropy,
});
