/** A valid German shipping address, as AddressInput takes it. */
export const BERLIN = {
  firstName: 'Erika',
  lastName: 'Mustermann',
  line1: 'Unter den Linden 1',
  city: 'Berlin',
  postalCode: '10117',
  countryCode: 'DE',
};
