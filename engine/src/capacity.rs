//! Throughput as part of every data operation: each operation admits its
//! request before it does anything (`--enforce-throughput`: refused with
//! `Error::Throttled` when a bucket it needs is empty) and charges what it
//! consumed after, and returns the units it consumed. The units are
//! computed in `units`; the buckets live in `throttle`.

use crate::error::Result;
use crate::shared::Shared;
use crate::throttle::Side;
use crate::units::Units;

impl Shared {
    /// Admits a request to `table` (reading `index`, if any), or refuses it
    /// with `Error::Throttled`. A missing table is admitted: the
    /// operation itself reports it, after its own validation.
    pub(crate) fn admit(&self, table: &str, side: Side, index: Option<&str>) -> Result<()> {
        if !self.buckets.enabled() {
            return Ok(());
        }
        let Ok(table) = self.table(table) else {
            return Ok(());
        };
        let def = table.read();
        self.buckets.admit(&def, side, index)
    }

    /// Charges what a request on `table` consumed: a read of an index whole
    /// to the index's bucket (a global one) or the table's (a local one);
    /// anything else the table and local index arms to the table, each
    /// global index arm to its index.
    pub(crate) fn charge(&self, table: &str, side: Side, index: Option<&str>, units: &Units) {
        match (side, index) {
            (Side::Read, Some(_)) => self.charge_arms(table, side, index, units.total(), &[]),
            _ => self.charge_arms(table, side, None, units.table_share(), &units.global_arms()),
        }
    }

    /// Charges `table_units` to the table (or, for a read of a global
    /// index, the index) and each global index write arm to its index.
    pub(crate) fn charge_arms(
        &self,
        table: &str,
        side: Side,
        index: Option<&str>,
        table_units: f64,
        index_units: &[(String, f64)],
    ) {
        if !self.buckets.enabled() {
            return;
        }
        if let Ok(table) = self.table(table) {
            let def = table.read();
            self.buckets
                .charge(&def, side, index, table_units, index_units);
        }
    }
}
