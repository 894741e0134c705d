import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spokenCode, ssmlCode, ssmlDocument, xmlEscape } from './voice.ts';

describe('voice', () => {
  test('spokenCode: digits one by one, with commas for pauses', () => {
    assert.equal(spokenCode('561126'), '5, 6, 1, 1, 2, 6');
    assert.equal(spokenCode('0042'), '0, 0, 4, 2', 'leading zeros are said');
  });

  test('ssmlCode: a 300 ms break between digits; a letter is spelled', () => {
    assert.equal(ssmlCode('561'), '5<break time="300ms"/>6<break time="300ms"/>1');
    assert.equal(ssmlCode('7A'), '7<break time="300ms"/><say-as interpret-as="characters">A</say-as>');
  });

  test('ssmlDocument: <speak> with the language', () => {
    assert.equal(ssmlDocument('Hallo', 'nl-NL'), '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="nl-NL">Hallo</speak>');
  });

  test('xmlEscape: markup characters escaped, characters XML cannot hold dropped', () => {
    assert.equal(xmlEscape(`<a b="c">'&'</a>\u0000\u0007ok`), '&lt;a b=&quot;c&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;ok');
  });
});
