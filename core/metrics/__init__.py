"""Measuring motion: lip sync, landmark distance, motion stability, head motion, blinks, images."""
