/** Exit statuses of `desktop-streamer` (sysexits.h). */
export const EXIT = {
  ok: 0,
  usage: 64,
  dataErr: 65,
  noInput: 66,
  unavailable: 69,
  failed: 70,
  cantCreate: 73,
  config: 78,
} as const;
