/**
 * What this browser keeps about its enrolment, in IndexedDB: the device key (a non-extractable
 * WebCrypto CryptoKey: script can use it, never read it), the device id and audience the server
 * gave, and the WebAuthn credential id that signs approvals.
 */
export interface Enrolment {
  /** The server, e.g. https://verify.acme.example (the text before /authenticator/). */
  api: string;
  deviceId: string;
  audience: string;
  name: string;
  privateKey: CryptoKey;
  publicJwk: JsonWebKey;
  credentialId: string;
  vapidPublicKey: string | null;
}

const DB = 'outband-authenticator';
const STORE = 'enrolment';
const KEY = 'current';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = action(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result as T);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

export const loadEnrolment = async (): Promise<Enrolment | null> => (await run<Enrolment | undefined>('readonly', (s) => s.get(KEY))) ?? null;
export const saveEnrolment = (enrolment: Enrolment): Promise<unknown> => run('readwrite', (s) => s.put(enrolment, KEY));
export const forgetEnrolment = (): Promise<unknown> => run('readwrite', (s) => s.delete(KEY));
