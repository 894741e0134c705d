import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyzeSms, encodeGsm7, isGsm7, splitSms } from './encoding.ts';

describe('GSM 7-bit alphabet (3GPP TS 23.038)', () => {
  test('septet values of the default table and the extension table', () => {
    // Spot checks across the table, from the specification's figure.
    assert.deepEqual([...encodeGsm7('@£$¥èéùìòÇ')], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual([...encodeGsm7('\nØø\rÅåΔ_')], [0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11]);
    assert.deepEqual([...encodeGsm7('ÆæßÉ ¤')], [0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x24]);
    assert.deepEqual([...encodeGsm7('¡AZÄÖÑÜ§¿az')], [0x40, 0x41, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x7a]);
    assert.deepEqual([...encodeGsm7('äöñüà')], [0x7b, 0x7c, 0x7d, 0x7e, 0x7f]);
    assert.deepEqual([...encodeGsm7('€[]{}|^~\\\f')], [0x1b, 0x65, 0x1b, 0x3c, 0x1b, 0x3e, 0x1b, 0x28, 0x1b, 0x29, 0x1b, 0x40, 0x1b, 0x14, 0x1b, 0x3d, 0x1b, 0x2f, 0x1b, 0x0a]);
  });

  test('the escape character itself and characters outside the table are not GSM-7', () => {
    assert.equal(isGsm7('\u001b'), false);
    assert.throws(() => encodeGsm7('ç'), /U\+00E7/);
    assert.throws(() => encodeGsm7('`'), /U\+0060/);
  });

  test('accented letters of Dutch, German, French and Spanish text', () => {
    // In the table: é è ü ö ä ñ Ä Ö Ñ Ü à ù ì ò Ç ß É Å å Æ æ Ø ø.
    for (const char of 'éèüöäñÄÖÑÜàùìòÇßÉÅåÆæØø') assert.equal(isGsm7(char), true, char);
    // Not in it: a lower-case ç (only Ç is), circumflexes, the Spanish acute vowels other than é, ë, ï …
    for (const char of 'çêâîôûëïÿœáíóúÁÍÓÚÈÀÊ`') assert.equal(isGsm7(char), false, char);
    assert.equal(analyzeSms('Uw code is 123456. Geldig tot 12:00, één keer te gebruiken.').encoding, 'gsm7'); // nl
    assert.equal(analyzeSms('Ihr Bestätigungscode: 123456. Gültig für 5 Minuten. Grüße').encoding, 'gsm7'); // de
    assert.equal(analyzeSms('Votre code de vérification est 123456, à utiliser très vite.').encoding, 'gsm7'); // fr
    assert.equal(analyzeSms('Ça y est : votre code est 123456.').encoding, 'gsm7'); // Ç is in the table
    assert.equal(analyzeSms('Ton code reçu : 123456').encoding, 'ucs2'); // ç is not
    assert.equal(analyzeSms('Votre code : 123456. Arrêtez-vous là.').encoding, 'ucs2'); // ê
    assert.equal(analyzeSms('Tu clave es 123456. ¡Señor, niño! ¿Qué?').encoding, 'gsm7'); // es, without á í ó ú
    assert.equal(analyzeSms('Tu código de verificación es 123456').encoding, 'ucs2'); // ó
  });
});

describe('analyzeSms', () => {
  test('case=gsm7 boundaries: 160 septets in one SMS, 161 in two', () => {
    assert.deepEqual(analyzeSms('a'.repeat(160)), { encoding: 'gsm7', units: 160, segments: 1 });
    assert.deepEqual(analyzeSms('a'.repeat(161)), { encoding: 'gsm7', units: 161, segments: 2 });
    assert.deepEqual(analyzeSms('a'.repeat(306)), { encoding: 'gsm7', units: 306, segments: 2 });
    assert.deepEqual(analyzeSms('a'.repeat(307)), { encoding: 'gsm7', units: 307, segments: 3 });
  });

  test('case=gsm7 extension characters count two septets', () => {
    assert.deepEqual(analyzeSms('€'), { encoding: 'gsm7', units: 2, segments: 1 });
    assert.deepEqual(analyzeSms('€'.repeat(80)), { encoding: 'gsm7', units: 160, segments: 1 });
    assert.deepEqual(analyzeSms('€'.repeat(80) + 'a'), { encoding: 'gsm7', units: 161, segments: 2 });
    assert.deepEqual(analyzeSms('a'.repeat(159) + '['), { encoding: 'gsm7', units: 161, segments: 2 });
  });

  test('case=ucs2 boundaries: 70 units in one SMS, 71 in two', () => {
    assert.deepEqual(analyzeSms('验'.repeat(70)), { encoding: 'ucs2', units: 70, segments: 1 });
    assert.deepEqual(analyzeSms('验'.repeat(71)), { encoding: 'ucs2', units: 71, segments: 2 });
    assert.deepEqual(analyzeSms('验'.repeat(134)), { encoding: 'ucs2', units: 134, segments: 2 });
    assert.deepEqual(analyzeSms('验'.repeat(135)), { encoding: 'ucs2', units: 135, segments: 3 });
  });

  test('case=ucs2 one character outside GSM-7 makes the whole text UCS-2', () => {
    assert.deepEqual(analyzeSms('a'.repeat(69) + 'ç'), { encoding: 'ucs2', units: 70, segments: 1 });
    assert.deepEqual(analyzeSms('a'.repeat(70) + 'ç'), { encoding: 'ucs2', units: 71, segments: 2 });
  });

  test('case=emoji a surrogate pair is two UTF-16 units', () => {
    assert.deepEqual(analyzeSms('🙂'), { encoding: 'ucs2', units: 2, segments: 1 });
    assert.deepEqual(analyzeSms('🙂'.repeat(35)), { encoding: 'ucs2', units: 70, segments: 1 });
    assert.deepEqual(analyzeSms('🙂'.repeat(35) + 'a'), { encoding: 'ucs2', units: 71, segments: 2 });
  });

  test('case=empty text is one (empty) SMS', () => {
    assert.deepEqual(analyzeSms(''), { encoding: 'gsm7', units: 0, segments: 1 });
    assert.deepEqual(splitSms(''), { encoding: 'gsm7', parts: [''] });
  });
});

describe('splitSms', () => {
  test('case=gsm7 parts of 153 septets that join back to the text', () => {
    const text = 'x'.repeat(400);
    const { encoding, parts } = splitSms(text);
    assert.equal(encoding, 'gsm7');
    assert.deepEqual(parts.map((p) => p.length), [153, 153, 94]);
    assert.equal(parts.join(''), text);
  });

  test('case=gsm7 an escape sequence is never cut in two', () => {
    // 152 septets, then € (2): it does not fit the first part's last septet and opens the second.
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(10);
    const { parts } = splitSms(text);
    assert.deepEqual(parts, ['a'.repeat(152), '€' + 'b'.repeat(10)]);
    for (const part of parts) assert.ok(encodeGsm7(part).length <= 153);
    // All extension characters: 76 per part (152 septets), never 76½.
    const euros = splitSms('€'.repeat(100));
    assert.deepEqual(euros.parts.map((p) => p.length), [76, 24]);
  });

  test('case=ucs2 parts of 67 units that join back to the text', () => {
    const text = '验证码'.repeat(50); // 150 units
    const { encoding, parts } = splitSms(text);
    assert.equal(encoding, 'ucs2');
    assert.deepEqual(parts.map((p) => p.length), [67, 67, 16]);
    assert.equal(parts.join(''), text);
  });

  test('case=ucs2 a surrogate pair is never cut in two', () => {
    const text = 'a'.repeat(66) + '🙂' + 'b'.repeat(10);
    const { parts } = splitSms(text);
    assert.deepEqual(parts, ['a'.repeat(66), '🙂' + 'b'.repeat(10)]);
    const emoji = splitSms('🙂'.repeat(40)); // 80 units: 33 pairs (66 units) per part
    assert.deepEqual(emoji.parts.map((p) => p.length), [66, 14]);
    for (const part of emoji.parts) assert.equal(part.isWellFormed(), true);
    assert.equal(emoji.parts.join(''), '🙂'.repeat(40));
  });

  test('case=single a text that fits one SMS is one part, untouched', () => {
    assert.deepEqual(splitSms('a'.repeat(160)), { encoding: 'gsm7', parts: ['a'.repeat(160)] });
    assert.deepEqual(splitSms('验'.repeat(70)), { encoding: 'ucs2', parts: ['验'.repeat(70)] });
  });
});
