#!/usr/bin/env bash
# Monitor, and retrain when the data drifted: for cron, e.g.
#   0 6 * * *  /opt/mlx/cron.sh /opt/mlx/spec.yaml >> /var/log/mlx.log 2>&1
# mlx monitor exits 0 (within thresholds), 3 (drift or a performance drop),
# 2 (bad input) or 1 (an environment failure); only 3 retrains. The retrained
# version takes the 'champion' alias only if it beats the champion on the same
# fresh rows (the spec's tracking.promote), so a bad retrain changes nothing served.
set -uo pipefail
spec="${1:?usage: cron.sh SPEC.yaml [MODEL_URI]}"
model="${2:-models:/penguins-monitored@champion}"
mlx="${MLX:-mlx}"
metrics="${MLX_PROMETHEUS:-$(dirname "$spec")/metrics/mlx.prom}"

"$mlx" monitor --model "$model" --spec "$spec" --prometheus "$metrics" --quiet
status=$?
case $status in
  0) echo "$(date -u +%FT%TZ) no drift"; exit 0 ;;
  3) echo "$(date -u +%FT%TZ) drift: retraining"
     exec "$mlx" run "$spec" --challenge "$model" --quiet ;;
  *) echo "$(date -u +%FT%TZ) mlx monitor failed with exit code $status" >&2; exit "$status" ;;
esac
