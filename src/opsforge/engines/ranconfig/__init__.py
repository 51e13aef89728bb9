"""RAN configuration compiler: MOM XML -> typed models -> templates -> cmedit plans (seed 001)."""
