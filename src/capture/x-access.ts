/**
 * Can the supervisor reach the X display? Read from what xrandr and gst-launch print when they
 * cannot (pure): a server that refuses us (no cookie, wrong cookie, no xhost grant) needs a
 * different fix from a server that is not there at all, and both used to look like "no signal".
 */

/**
 * - `granted`: the X server answered (xrandr listed the monitors).
 * - `refused`: the server is there but refused the connection (X authorisation).
 * - `unreachable`: no server answers on that display (not started yet, crashed, socket not visible).
 * - `unknown`: not asked yet, or failed for another reason.
 */
export type DisplayAccess = 'granted' | 'refused' | 'unreachable' | 'unknown';

export const DISPLAY_ACCESS_STATES: readonly DisplayAccess[] = [
  'granted',
  'refused',
  'unreachable',
  'unknown',
];

// Xlib's wording (libX11 xcb_disp.c / ConnDis.c), printed by every client before it gives up:
//   "Authorization required, but no authorization protocol specified"  no cookie and no xhost grant
//   "Invalid MIT-MAGIC-COOKIE-1 key"                                    a cookie the server does not know
//   "No protocol specified"                                              older Xlib, same meaning as the first
//   "Client is not authorized to connect to Server"                     XCB's wording
const REFUSED = [
  /authorization required/i,
  /invalid mit-magic-cookie-1 key/i,
  /^no protocol specified$/im,
  /not authorized to connect/i,
];

// xrandr: "Can't open display :0"; most Xlib clients: "cannot open display"; ximagesrc (its bus
// ERROR message): "Could not open X display for reading".
const UNREACHABLE = [/can(?:'|no)t open display/i, /could not open x display/i];

/**
 * What a failed X client's output says about access to the display, or null when it says nothing
 * about it. A refusal wins over "cannot open display": clients print both, refusal first.
 */
export function classifyDisplayError(text: string): Exclude<DisplayAccess, 'granted' | 'unknown'> | null {
  if (REFUSED.some((pattern) => pattern.test(text))) return 'refused';
  if (UNREACHABLE.some((pattern) => pattern.test(text))) return 'unreachable';
  return null;
}

/**
 * Access to the display from the supervisor's point of view.
 * @param planned the supervisor has asked xrandr at least once (it has a capture plan)
 * @param displayError what xrandr printed when it last failed, or null/undefined when it last answered
 */
export function displayAccessOf(planned: boolean, displayError: string | null | undefined): DisplayAccess {
  if (displayError) return classifyDisplayError(displayError) ?? 'unknown';
  return planned ? 'granted' : 'unknown';
}
