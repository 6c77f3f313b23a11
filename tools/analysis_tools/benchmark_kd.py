"""The distillation table on the demo data: teacher | student alone |
+ feature MSE | + CWD | + MasKD-style | + ACAM-KD, several seeds, one script.

    python tools/analysis_tools/benchmark_kd.py --task seg [--seeds 0 1] \\
        [--out F]
    python tools/analysis_tools/benchmark_kd.py --task det [--seeds 0 1] \\
        [--out F]
    python tools/analysis_tools/benchmark_kd.py --task det --cost \\
        [--cost-iters 60]

Table mode: the teacher config is trained once (seed 0) or reused from
``--work-root``; the student alone and each distillation config then train
the same schedule per seed, the distillers with that teacher's checkpoint
(``model.teacher_ckpt``).  Finished runs are reused, runs cut off midway
resumed, unless ``--force``.
Reported: the last validation metric (mean over seeds, per seed) and the
median s/iter of each run.

Cost mode (run it alone on the machine): short runs of the student alone,
ACAM-KD without and with K/V pooling (``kv_stride=2``) and feature MSE,
no validation; median s/iter (first 10 % skipped) and peak RSS (CPU) or
peak CUDA memory, as ratios to the student alone; then the inference time
of the distiller's ``test_step`` (the student only) vs the plain student
on the same validation batches, which must match.
"""
import argparse
import os.path as osp
import statistics
import time

from benchmark_utils import (
    add_run_args,
    config_name,
    last_checkpoint,
    ratio_table,
    run_one,
    timing_options,
    train_or_reuse,
    write_out,
)

SUP = 'configs/supervised/demo/'
KD = 'configs/acam_kd/demo/'
TASKS = dict(
    det=dict(teacher=SUP + 'faster_rcnn_r34w2_demo_coco_full.py',
             student=SUP + 'faster_rcnn_r18_demo_coco_full.py',
             kd=KD + '{}_kd_faster_rcnn_r34w2_r18_demo_coco.py',
             loss_key='fpn', metric='coco/bbox_mAP'),
    seg=dict(teacher=SUP + 'deeplabv3_r18_demo_cityscapes_full.py',
             student=SUP + 'deeplabv3_mbv2_demo_cityscapes_full.py',
             kd=KD + '{}_kd_deeplabv3_r18w2_mbv2_demo_cityscapes.py',
             loss_key='logits', metric='mIoU'))
METHODS = ['mse', 'cwd', 'maskd', 'acam']
LABELS = dict(teacher='teacher (seed 0)', student='student alone',
              inherit='inheritance only (ACAM-KD config, distill_weight 0)',
              mse='+ feature MSE (FitNet)', cwd='+ CWD', maskd='+ MasKD-style',
              acam='+ ACAM-KD', acam_paper='+ ACAM-KD, the paper literally',
              acam_kv2='+ ACAM-KD, K/V pooling (stride 2)',
              acam_detach='+ ACAM-KD, masks detached in L_s / L_c')
# variants of the ACAM-KD config: run -> (work-dir suffix, options)
VARIANTS = dict(
    acam_kv2=('_kv2', ['model.distill_losses.{key}.kv_stride=2']),
    acam_detach=('_detach', ['model.distill_losses.{key}.detach_masks=True']),
    inherit=('_inherit', ['model.distill_weight=0']),
    # learned 1x1 align, the diversity loss training the student, α = λ = 1
    acam_paper=('_paper', [
        'model.distill_losses.{key}.align=True',
        'model.distill_losses.{key}.div_grad=all',
        'model.distill_losses.{key}.alpha_spatial=1.0',
        'model.distill_losses.{key}.alpha_channel=1.0',
        'model.distill_losses.{key}.lambda_div=1.0',
        'model.distill_losses.{key}.loss_weight=1.0']))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--task', choices=sorted(TASKS), required=True)
    add_run_args(p, seeds=(0, 1), cost_iters=60)
    p.add_argument('--runs', nargs='+', default=['student', *METHODS],
                   choices=['student', *METHODS, *VARIANTS],
                   help='which runs besides the teacher (default all)')
    return p.parse_args()


def kd_config(task, run):
    return TASKS[task]['kd'].format('acam' if run in VARIANTS else run)


def table(task, rows):
    metric = TASKS[task]['metric']
    lines = [f'| run | seeds | {metric} (mean) | per seed | s/iter (median) |',
             '|---|---|---|---|---|']
    for run, res in rows.items():
        vals = [r['metrics'].get(metric, float('nan')) for r in res.values()]
        per_seed = ', '.join(f'{s}: {v:.4g}' for s, v in zip(res, vals))
        s_iter = statistics.median(r['s_iter'] for r in res.values())
        lines.append(f'| {LABELS[run]} | {len(res)} | '
                     f'{statistics.mean(vals):.4g} | {per_seed} | '
                     f'{s_iter:.3f} |')
    text = '\n'.join(lines)
    print(text, flush=True)
    return text


def accuracy(args):
    spec = TASKS[args.task]
    teacher_dir, teacher = train_or_reuse(spec['teacher'], 0, args.work_root,
                                          threads=args.threads)
    teacher_ckpt = last_checkpoint(teacher_dir)
    rows = dict(teacher={0: teacher})
    for seed in args.seeds:
        for run in args.runs:
            if run == 'student':
                config, opts = spec['student'], []
            else:
                config = kd_config(args.task, run)
                opts = [f'model.teacher_ckpt={teacher_ckpt}']
            suffix, extra = VARIANTS.get(run, ('', []))
            opts += [o.format(key=spec['loss_key']) for o in extra]
            rows.setdefault(run, {})[seed] = train_or_reuse(
                config, seed, args.work_root, opts, suffix, args.force,
                args.threads)[1]
            table(args.task, rows)
    return table(args.task, rows)


def inference_times(task, n_batches=10):
    """Median test_step seconds: the distiller vs its student built alone."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner import Runner

    from mmkd.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(kd_config(task, 'acam'))
    init_default_scope(cfg.get('default_scope', 'mmkd'))
    cfg.model.teacher_ckpt = None
    distiller = MODELS.build(cfg.model).eval()
    student = MODELS.build(Config.fromfile(TASKS[task]['student']).model)
    student.load_state_dict(distiller.student.state_dict())
    student.eval()
    loader_cfg = cfg.val_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg)
    times = dict(distiller=[], student=[])
    with torch.no_grad():
        for i, batch in enumerate(loader):
            if i == n_batches:
                break
            for name, model in (('distiller', distiller),
                                ('student', student)):
                t0 = time.perf_counter()
                model.test_step(batch)
                times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v[1:]) for k, v in times.items()}


def cost(args):
    spec = TASKS[args.task]
    n = args.cost_iters
    opts = timing_options(n)
    teacher_ckpt = None
    teacher_dir = osp.join(args.work_root,
                           f'{config_name(spec["teacher"])}_seed0')
    if osp.exists(osp.join(teacher_dir, 'last_checkpoint')):
        teacher_ckpt = last_checkpoint(teacher_dir)
    runs = dict(student=(spec['student'], []),
                mse=(kd_config(args.task, 'mse'), []),
                acam=(kd_config(args.task, 'acam'), []),
                acam_kv2=(kd_config(args.task, 'acam'), [
                    o.format(key=spec['loss_key'])
                    for o in VARIANTS['acam_kv2'][1]]))
    results = {}
    for run, (config, extra) in runs.items():
        if run != 'student':
            extra = [f'model.teacher_ckpt={teacher_ckpt}', *extra]
        work_dir = osp.join(args.work_root, 'cost', f'{args.task}_{run}')
        results[run] = run_one(config, 0, work_dir, opts + extra,
                               args.threads)
    lines = [ratio_table(results, 'student', LABELS.get,
                         f'training ({n} iters)')]
    inf = inference_times(args.task)
    lines.append(f'\nInference (test_step, median of 9 val batches): '
                 f'distiller {inf["distiller"]:.3f} s, student alone '
                 f'{inf["student"]:.3f} s '
                 f'({inf["distiller"] / inf["student"]:.2f}×).')
    text = '\n'.join(lines)
    print(text, flush=True)
    return text


def main():
    args = parse_args()
    write_out(args.out, cost(args) if args.cost else accuracy(args))


if __name__ == '__main__':
    main()
