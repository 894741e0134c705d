import { verificationDialog, type DialogOptions } from './verification-dialog.ts';

/** Send code: an SMS or call to the customer's phone; the agent types the code the caller reads back. */
export const sendCodeDialog = (options: DialogOptions) => verificationDialog('code', options);
