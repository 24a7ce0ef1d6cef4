"""Image similarity: PSNR and SSIM (Wang et al. 2004; 11-tap Gaussian window, σ = 1.5)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB (inf for identical images)."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """Mean SSIM over pixels (and channels, for colour images)."""
    x = np.asarray(a, np.float64)
    y = np.asarray(b, np.float64)
    if x.shape != y.shape:
        raise ValueError(f"images differ in shape: {x.shape} vs {y.shape}")
    if x.ndim == 3:
        return float(np.mean([ssim(x[..., c], y[..., c], peak) for c in range(x.shape[2])]))
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2

    def blur(z: np.ndarray) -> np.ndarray:
        return np.asarray(gaussian_filter(z, 1.5, truncate=3.5))

    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(s.mean())
