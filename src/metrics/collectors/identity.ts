import type { Config } from '../../config/schema.ts';
import type { SupervisorSnapshot } from '../../pipeline/types.ts';
import type { CollectorDefinition } from '../scrape.ts';

export interface IdentityCollectorDeps {
  config: Config;
  supervisor: { snapshot(): SupervisorSnapshot };
  version: string;
  gstreamerVersion: string;
  kioskName: string;
  nodeVersion?: string;
}

const MIB = 1024 * 1024;

/** Build identity, what is captured (from the current capture plan) and the configured targets. */
export function identityCollector(deps: IdentityCollectorDeps): CollectorDefinition {
  return {
    name: 'identity',
    setup(metrics) {
      const buildInfo = metrics.gauge('desktop_streamer_build_info', 'Identity of this build (always 1).', [
        'version',
        'node_version',
        'gstreamer_version',
      ]);
      const captureInfo = metrics.gauge(
        'desktop_streamer_capture_info',
        'What is captured and how (always 1; geometry is WxH+X+Y of the monitor). Absent before the first capture plan.',
        ['kiosk', 'monitor', 'output', 'geometry', 'encoder', 'width', 'height', 'fps'],
      );
      const fps = metrics.gauge('desktop_streamer_config_fps', 'Configured frame rate.');
      const bitrate = metrics.gauge(
        'desktop_streamer_config_bitrate_bytes_per_second',
        'Configured video bitrate in bytes per second (bitrate kbit/s × 125).',
      );
      const segmentDuration = metrics.gauge(
        'desktop_streamer_config_segment_duration_seconds',
        'Configured HLS segment duration.',
      );
      const gpuMemoryLimit = metrics.gauge(
        'desktop_streamer_config_gpu_memory_limit_bytes',
        'Configured unity_optimization.gpu_memory_limit_mb, in bytes.',
      );
      const cpuQuota = metrics.gauge(
        'desktop_streamer_config_cpu_quota_ratio',
        'Configured unity_optimization.cpu_quota_percent as a ratio of one core (the systemd CPUQuota= of the service).',
      );
      const memoryLimit = metrics.gauge(
        'desktop_streamer_config_memory_limit_bytes',
        'Configured unity_optimization.memory_limit_mb, in bytes (the systemd MemoryMax= of the service).',
      );
      const maxRestarts = metrics.gauge(
        'desktop_streamer_config_max_restarts',
        'Configured max_restarts (restarts allowed within restart_window).',
      );

      return () => {
        const { config } = deps;
        buildInfo.reset();
        buildInfo.set(
          {
            version: deps.version,
            node_version: deps.nodeVersion ?? process.versions.node,
            gstreamer_version: deps.gstreamerVersion,
          },
          1,
        );
        captureInfo.reset();
        const plan = deps.supervisor.snapshot().capture;
        if (plan) {
          const { monitor } = plan;
          captureInfo.set(
            {
              kiosk: deps.kioskName,
              monitor: monitor.name,
              output: monitor.outputs.join(','),
              geometry: `${monitor.width}x${monitor.height}+${monitor.x}+${monitor.y}`,
              encoder: plan.encoder.element,
              width: plan.width,
              height: plan.height,
              fps: plan.fps,
            },
            1,
          );
        }
        fps.set(config.fps);
        bitrate.set((config.bitrate * 1000) / 8);
        segmentDuration.set(config.segment_duration);
        cpuQuota.set(config.unity_optimization.cpu_quota_percent / 100);
        memoryLimit.set(config.unity_optimization.memory_limit_mb * 1024 * 1024);
        gpuMemoryLimit.set(config.unity_optimization.gpu_memory_limit_mb * MIB);
        maxRestarts.set(config.max_restarts);
      };
    },
  };
}
