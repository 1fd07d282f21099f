"""Network reports for managers and commissioners: enhanced access, recharges, fairness."""
