import { verificationDialog, type DialogOptions } from './verification-dialog.ts';

/** Verify caller: a push to the customer's device, followed live until they approve or deny. */
export const verifyCallerDialog = (options: DialogOptions) => verificationDialog('push', options);
