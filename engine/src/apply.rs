//! What a write makes of the old item: its condition, and the item an
//! update produces. Shared by single-item writes and transactions.

use tarn_expr::ast::{Condition, Update};
use tarn_expr::{eval, size, Item};

use crate::error::{Error, Result};
use crate::invalid::Invalid;

/// The item an update makes of `old` (or of the bare key, for an upsert);
/// `None` when it creates nothing. As in DynamoDB, an update of a missing
/// item that adds nothing but the key (REMOVE or DELETE only) creates
/// nothing, and no update at all creates the key-only item.
pub(crate) fn updated_item(
    key: &Item,
    update: Option<&Update>,
    old: Option<&Item>,
) -> Result<Option<Item>> {
    let mut new = old.cloned().unwrap_or_else(|| key.clone());
    if let Some(update) = update {
        eval::apply_update(update, &mut new, old.is_some())
            .map_err(|e| Error::Validation(Invalid::Expression(e)))?;
    }
    for value in new.values() {
        value
            .validate()
            .map_err(|e| Error::Validation(Invalid::Value(e)))?;
    }
    if size::item_size(&new) > size::ITEM_SIZE_BYTES_MAX {
        return Err(Error::Validation(Invalid::UpdatedItemTooLarge));
    }
    let acted = update.is_some_and(|u| !u.actions.is_empty());
    if old.is_none() && acted && new == *key {
        return Ok(None);
    }
    Ok(Some(new))
}

/// Refuses a write whose condition does not hold for the old item.
pub(crate) fn check_condition(condition: Option<&Condition>, old: Option<&Item>) -> Result<()> {
    let Some(condition) = condition else {
        return Ok(());
    };
    let empty = Item::new();
    if eval::eval_condition(condition, old.unwrap_or(&empty)) {
        Ok(())
    } else {
        Err(Error::ConditionalCheckFailed(old.cloned()))
    }
}
