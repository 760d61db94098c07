//! Dialysis unit scheduling.
