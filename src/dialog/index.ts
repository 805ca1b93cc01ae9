/**
 * The dialog layer (RFC 3261 §12): dialog state and identifiers, in-dialog
 * request construction with route sets (loose and strict routing), remote
 * target refresh and CSeq ordering. It sends nothing: the container uses it.
 */
export { Dialog, dialogKey, DIALOG_CREATING, TARGET_REFRESH, type DialogState } from './dialog.js';
