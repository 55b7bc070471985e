-- grain: one row per non-detect rule (nal_table.ND_RULES): what a non-detect counts as
-- inputs: none; the rules are definitions, applied per sample by the substitution model
select *
from (
    values
        ('exclude', 'non-detects left out of averages (the permit''s rule)'),
        ('zero', 'non-detects counted as 0'),
        ('half_rl', 'non-detects counted as half the reporting limit (RL, else MDL)'),
        ('rl', 'non-detects counted as the reporting limit (RL, else MDL)')
) as rules (nd_rule, description)
