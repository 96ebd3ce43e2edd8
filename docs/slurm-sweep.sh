#!/bin/bash
# Slurm job array for `nnkern sweep`: each array task trains its share of the
# configurations (nnkern reads SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT /
# SLURM_ARRAY_TASK_MIN itself), then one dependent job merges the shards.
#
#   sbatch docs/slurm-sweep.sh
#   sbatch --dependency=afterok:<jobid> --wrap \
#     'nnkern sweep merge --out runs/sweep runs/sweep/shard-*'
#
#SBATCH --job-name=nnkern-sweep
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=01:00:00
#SBATCH --output=runs/sweep/slurm-%A_%a.out
set -euo pipefail
export GOMAXPROCS=${SLURM_CPUS_PER_TASK:-2}
# Every task must see the same configuration list: same flags, same --seed.
exec nnkern sweep twolayer \
  --data "${NNKERN_DATA:-$HOME/data/cifar-10-python.tar.gz}" \
  --hidden 200,300,500 --lr 1e-3,2e-3 --reg 1e-3,1e-2,5e-2 --decay 0.95 --iters 3000,6000 \
  --random 24 --seed 1 \
  --out "runs/sweep/shard-${SLURM_ARRAY_TASK_ID}"
