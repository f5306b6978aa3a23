/**
 * A WHEP viewer in a real browser page: the script a test evaluates in Chromium to watch the stream
 * over WebRTC, and the readout it keeps (connection state, decoded frames, the picture's colour).
 */

export interface WhepReadout {
  connectionState: string;
  framesDecoded: number;
  /** Wall-clock time (epoch ms) of the last frame the <video> presented. */
  lastFrameAt: number;
  frameTimes: number[];
  videoWidth: number;
  /** Mean RGB of the middle of the picture, or null before the first frame. */
  rgb: [number, number, number] | null;
  status: number | null;
  location: string | null;
  error: string | null;
}

/** Evaluate with the WHEP URL (e.g. "/whep"): starts the viewer and keeps window.__whep up to date. */
export const WHEP_VIEWER_SCRIPT = `async (url) => {
  const state = { connectionState: 'new', framesDecoded: 0, lastFrameAt: 0, frameTimes: [], videoWidth: 0, rgb: null, status: null, location: null, error: null };
  window.__whep = state;
  const video = document.createElement('video');
  video.muted = true; video.autoplay = true; video.playsInline = true;
  document.body.append(video);
  const canvas = document.createElement('canvas'); canvas.width = 16; canvas.height = 16;
  const g = canvas.getContext('2d', { willReadFrequently: true });
  const onFrame = (now, meta) => {
    state.framesDecoded = meta.presentedFrames;
    state.lastFrameAt = performance.timeOrigin + now;
    state.frameTimes.push(state.lastFrameAt);
    if (state.frameTimes.length > 2000) state.frameTimes.shift();
    state.videoWidth = video.videoWidth;
    g.drawImage(video, video.videoWidth / 4, video.videoHeight / 4, video.videoWidth / 2, video.videoHeight / 2, 0, 0, 16, 16);
    const d = g.getImageData(0, 0, 16, 16).data; let r = 0, gg = 0, b = 0;
    for (let i = 0; i < d.length; i += 4) { r += d[i]; gg += d[i + 1]; b += d[i + 2]; }
    const n = d.length / 4; state.rgb = [r / n, gg / n, b / n];
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  const pc = new RTCPeerConnection();
  window.__whepPc = pc;
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.ontrack = (e) => { video.srcObject = e.streams[0] ?? new MediaStream([e.track]); };
  pc.onconnectionstatechange = () => { state.connectionState = pc.connectionState; };
  try {
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer.sdp });
    state.status = response.status; state.location = response.headers.get('location');
    if (response.status !== 201) { state.error = await response.text(); return state.status; }
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  } catch (error) { state.error = String(error); }
  return state.status;
}`;
