import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isGsm7 } from '../sms/encoding.ts';
import { foldForSms } from './sms-fold.ts';

describe('foldForSms', () => {
  test('folds typography to GSM 7-bit look-alikes when the whole text then fits', () => {
    const folded = foldForSms('Il expire aujourd’hui à 14:58\u202F! Ne le donnez à personne\u00A0: – “merci”…');
    assert.equal(folded, 'Il expire aujourd\'hui à 14:58 ! Ne le donnez à personne : - "merci"...');
  });

  test('a text already GSM 7-bit is left as it is', () => {
    assert.equal(foldForSms('Your code is 123456.'), 'Your code is 123456.');
  });

  test('a text that needs UCS-2 anyway keeps its typography', () => {
    const text = 'Su código caduca hoy a las 14:58\u202F— ¡gracias!';
    assert.equal(foldForSms(text), text);
  });

  test('what it folds to is GSM 7-bit', () => {
    assert.ok(isGsm7(foldForSms('today at 2:58\u202FPM, l’appli')));
  });
});
