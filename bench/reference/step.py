#!/usr/bin/env python3
"""PyTorch twin of bench/step.ts: the same generator, discriminator and training step as
core/nets + core/train/basic-step.ts (StyleGAN2-style G with nearest-up features and bilinear RGB
skips, residual D with 2x2 average pooling and minibatch stddev, non-saturating loss, Adam
lr 0.0025 betas (0, 0.99), no R1), NCHW, float32, on the CPU. Prints one JSON document.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/reference/step.py --sizes 32,64,128 --batch 32,32,16

Trainable parameter counts are printed so they can be compared with bench/step.ts's (the
architectures must match for the ratio to mean anything).
"""
import argparse
import json
import math
import os
import platform
import time

import torch
import torch.nn.functional as F
from torch import nn

SQRT2 = math.sqrt(2)


def lrelu(x, gain=SQRT2):
    return F.leaky_relu(x, 0.2) * gain


def normalize_2nd_moment(x, eps=1e-8):
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class EqualDense(nn.Module):
    def __init__(self, inf, outf, lr_mul=1.0, bias_init=0.0, bias=True, act='linear'):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(outf, inf) / lr_mul)
        self.bias = nn.Parameter(torch.full([outf], float(bias_init) / lr_mul)) if bias else None
        self.gain = lr_mul / math.sqrt(inf)
        self.lr_mul = lr_mul
        self.act = act

    def forward(self, x):
        b = self.bias * self.lr_mul if self.bias is not None else None
        y = F.linear(x, self.weight * self.gain, b)
        return lrelu(y) if self.act == 'lrelu' else y


class EqualConv(nn.Module):
    def __init__(self, inc, outc, k, bias=True, act='lrelu', gain=1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(outc, inc, k, k))
        self.bias = nn.Parameter(torch.zeros(outc)) if bias else None
        self.wgain = 1 / math.sqrt(inc * k * k)
        self.act = act
        self.gain = gain
        self.pad = k // 2

    def forward(self, x):
        y = F.conv2d(x, self.weight * self.wgain, self.bias, padding=self.pad)
        if self.act == 'lrelu':
            return lrelu(y, SQRT2 * self.gain)
        return y * self.gain if self.gain != 1 else y


class ModulatedConv(nn.Module):
    def __init__(self, w_dim, inc, outc, k, demodulate):
        super().__init__()
        self.affine = EqualDense(w_dim, inc, bias_init=1)
        self.weight = nn.Parameter(torch.randn(outc, inc, k, k))
        self.demodulate = demodulate
        self.style_gain = 1.0 if demodulate else 1 / math.sqrt(inc * k * k)
        self.pad = k // 2

    def forward(self, x, w):
        styles = self.affine(w) * self.style_gain  # [N, in]
        y = F.conv2d(x * styles[:, :, None, None], self.weight, padding=self.pad)
        if self.demodulate:
            wsq = self.weight.square().sum(dim=[2, 3])  # [out, in]
            dcoefs = (styles.square() @ wsq.t() + 1e-8).rsqrt()  # [N, out]
            y = y * dcoefs[:, :, None, None]
        return y


class SynthesisLayer(nn.Module):
    def __init__(self, w_dim, inc, outc, res):
        super().__init__()
        self.conv = ModulatedConv(w_dim, inc, outc, 3, True)
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.register_buffer('noise_const', torch.randn(1, 1, res, res))
        self.bias = nn.Parameter(torch.zeros(outc))

    def forward(self, x, w):
        y = self.conv(x, w)
        n, _, h, wd = y.shape
        y = y + torch.randn(n, 1, h, wd, device=y.device) * self.noise_strength
        return lrelu(y + self.bias[None, :, None, None])


class ToRGB(nn.Module):
    def __init__(self, w_dim, inc, outc):
        super().__init__()
        self.conv = ModulatedConv(w_dim, inc, outc, 1, False)
        self.bias = nn.Parameter(torch.zeros(outc))

    def forward(self, x, w):
        return self.conv(x, w) + self.bias[None, :, None, None]


def channels_at(cbase, cmax, res):
    return min(cbase // res, cmax)


class Generator(nn.Module):
    def __init__(self, res, cbase, cmax, z_dim=512, w_dim=512, mapping_layers=2, img_c=3):
        super().__init__()
        self.z_dim = z_dim
        fcs = []
        inf = z_dim
        for _ in range(mapping_layers):
            fcs.append(EqualDense(inf, w_dim, lr_mul=0.01, act='lrelu'))
            inf = w_dim
        self.mapping = nn.ModuleList(fcs)
        self.register_buffer('w_avg', torch.zeros(w_dim))
        c4 = channels_at(cbase, cmax, 4)
        self.const = nn.Parameter(torch.randn(c4, 4, 4))
        self.blocks = nn.ModuleList()
        r = 4
        while r <= res:
            inc = channels_at(cbase, cmax, 4 if r == 4 else r // 2)
            outc = channels_at(cbase, cmax, r)
            blk = nn.Module()
            blk.res = r
            blk.conv0 = SynthesisLayer(w_dim, inc, outc, r) if r > 4 else None
            blk.conv1 = SynthesisLayer(w_dim, c4 if r == 4 else outc, outc, r)
            blk.torgb = ToRGB(w_dim, outc, img_c)
            self.blocks.append(blk)
            r *= 2

    def forward(self, z, update_w_avg=False):
        x = normalize_2nd_moment(z)
        for fc in self.mapping:
            x = fc(x)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(x.mean(0).lerp(self.w_avg, 0.995))
        w = x
        h = self.const[None].repeat(z.shape[0], 1, 1, 1)
        img = None
        for b in self.blocks:
            if b.conv0 is not None:
                h = F.interpolate(h, scale_factor=2, mode='nearest')
                h = b.conv0(h, w)
            h = b.conv1(h, w)
            rgb = b.torgb(h, w)
            img = rgb if img is None else F.interpolate(img, scale_factor=2, mode='bilinear', align_corners=False) + rgb
        return img


def minibatch_std(x, group_size=4, f=1):
    n, c, h, w = x.shape
    g = min(group_size, n)
    while n % g != 0:
        g -= 1
    y = x.reshape(g, -1, f, c // f, h, w)
    y = y - y.mean(dim=0)
    y = (y.square().mean(dim=0) + 1e-8).sqrt()
    y = y.mean(dim=[2, 3, 4]).reshape(-1, f, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    def __init__(self, res, cbase, cmax, img_c=3):
        super().__init__()
        self.blocks = nn.ModuleList()
        r = res
        while r > 4:
            inc, outc = channels_at(cbase, cmax, r), channels_at(cbase, cmax, r // 2)
            blk = nn.Module()
            blk.fromrgb = EqualConv(img_c, inc, 1) if r == res else None
            blk.conv0 = EqualConv(inc, inc, 3)
            blk.conv1 = EqualConv(inc, outc, 3, gain=math.sqrt(0.5))
            blk.skip = EqualConv(inc, outc, 1, bias=False, act='linear', gain=math.sqrt(0.5))
            self.blocks.append(blk)
            r //= 2
        c4 = channels_at(cbase, cmax, 4)
        self.conv = EqualConv(c4 + 1, c4, 3)
        self.fc = EqualDense(c4 * 16, c4, act='lrelu')
        self.out = EqualDense(c4, 1)

    def forward(self, x):
        for b in self.blocks:
            if b.fromrgb is not None:
                x = b.fromrgb(x)
            skip = b.skip(F.avg_pool2d(x, 2))
            x = skip + b.conv1(F.avg_pool2d(b.conv0(x), 2))
        x = self.conv(minibatch_std(x))
        # Flatten channels-last, as the TF.js D does, so fc's weights mean the same.
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        return self.out(self.fc(x))


def loaded_blas():
    """The BLAS library actually mapped into this process (Debian's torch uses the system one)."""
    try:
        with open('/proc/self/maps') as f:
            libs = sorted({line.split()[-1] for line in f if 'blas' in line.lower() and '/' in line})
        return libs or 'unknown'
    except OSError:
        return 'unknown'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sizes', default='32,64,128')
    ap.add_argument('--batch', default='32', help='one batch size, or one per size')
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--channel-base', type=int, default=2048)
    ap.add_argument('--channel-max', type=int, default=128)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (the GPU peer of the webgpu backend)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    sync = (lambda: torch.cuda.synchronize()) if dev.type == 'cuda' else (lambda: None)
    torch.manual_seed(0)
    sizes = [int(s) for s in args.sizes.split(',')]
    batches = [int(b) for b in args.batch.split(',')]
    if len(batches) == 1:
        batches = batches * len(sizes)
    results = []
    for res, batch in zip(sizes, batches):
        G = Generator(res, args.channel_base, args.channel_max).to(dev)
        D = Discriminator(res, args.channel_base, args.channel_max).to(dev)
        g_opt = torch.optim.Adam(G.parameters(), lr=0.0025, betas=(0.0, 0.99), eps=1e-8)
        d_opt = torch.optim.Adam(D.parameters(), lr=0.0025, betas=(0.0, 0.99), eps=1e-8)
        reals = torch.rand(batch, 3, res, res, device=dev) * 2 - 1

        def step():
            with torch.no_grad():
                fakes = G(torch.randn(batch, G.z_dim, device=dev))
            d_opt.zero_grad(set_to_none=True)
            d_loss = F.softplus(D(fakes)).mean() + F.softplus(-D(reals)).mean()
            d_loss.backward()
            d_opt.step()
            g_opt.zero_grad(set_to_none=True)
            g_loss = F.softplus(-D(G(torch.randn(batch, G.z_dim, device=dev), update_w_avg=True))).mean()
            g_loss.backward()
            g_opt.step()
            return float(d_loss), float(g_loss)

        step()  # warm-up
        times = []
        for _ in range(args.steps):
            sync()
            t0 = time.perf_counter()
            step()  # reads the losses back: waits for the GPU
            times.append((time.perf_counter() - t0) * 1000)
        times_sorted = sorted(times)
        med = times_sorted[len(times) // 2] if len(times) % 2 else (times_sorted[len(times) // 2 - 1] + times_sorted[len(times) // 2]) / 2
        results.append({
            'resolution': res,
            'batch': batch,
            'steps': len(times),
            'msPerStep': {'median': round(med), 'min': round(min(times)), 'all': [round(t) for t in times]},
            'imagesPerSecond': round(batch * 1000 / med, 2),
            'params': {'G': sum(p.numel() for p in G.parameters()), 'D': sum(p.numel() for p in D.parameters())},
        })
    print(json.dumps({
        'benchmark': 'step (PyTorch reference)',
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'device': torch.cuda.get_device_name(0) if dev.type == 'cuda' else 'cpu',
        'openblasThreads': os.environ.get('OPENBLAS_NUM_THREADS'),
        'blas': loaded_blas(),
        'machine': platform.processor() or platform.machine(),
        'config': {'channelBase': args.channel_base, 'channelMax': args.channel_max},
        'sizes': results,
    }, indent=2))


if __name__ == '__main__':
    main()
