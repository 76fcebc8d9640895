//! Key validation: the checks a request's item or key passes against the
//! table's key schema before anything is read or written, and the storage
//! key it names.

use tarn_expr::ast::Update;
use tarn_expr::{key, resolve, AttributeValue, Item, ScalarType};

use crate::catalog::TableDef;
use crate::error::{Error, Result};
use crate::index;
use crate::invalid::{Invalid, Wording};
use crate::keys::{self, HASH_KEY_BYTES_MAX, RANGE_KEY_BYTES_MAX};
use crate::schema::KeyAttr;

/// The storage key of an UpdateItem's `Key`, after checking that the
/// update leaves the key attributes alone.
pub(crate) fn update_storage_key(
    def: &TableDef,
    key: &Item,
    update: Option<&Update>,
) -> Result<Vec<u8>> {
    let storage_key = key_storage_key(def, key)?;
    if let Some(update) = update {
        let ks = &def.key_schema;
        let mut names = vec![ks.hash.name.as_str()];
        names.extend(ks.range.as_ref().map(|r| r.name.as_str()));
        resolve::check_update_keys(update, &names)
            .map_err(|e| Error::Validation(Invalid::Expression(e)))?;
        index::check_update_paths(&def.indexes, update)?;
    }
    Ok(storage_key)
}

/// Checks one key attribute of an item or key against the schema, and
/// returns the size DynamoDB counts for it.
fn check_key_value(attr: &KeyAttr, value: &AttributeValue, in_item: bool) -> Result<usize> {
    let Some(ty) = value.scalar_type().filter(|t| *t == attr.ty) else {
        return Err(Error::Validation(if in_item {
            Invalid::ItemKeyType {
                attr: attr.name.clone(),
                expected: attr.ty,
                actual: value.type_name(),
            }
        } else {
            Invalid::KeySchemaMismatch
        }));
    };
    let size = key::value_size(value).unwrap_or(0);
    if size == 0 && ty != ScalarType::N {
        // PutItem and GetItem word this differently in DynamoDB.
        return Err(Error::Validation(Invalid::EmptyKey {
            attr: attr.name.clone(),
            ty,
            wording: if in_item { Wording::Item } else { Wording::Key },
        }));
    }
    Ok(size)
}

fn check_key_sizes(hash: usize, range: usize) -> Result<()> {
    if hash > HASH_KEY_BYTES_MAX {
        return Err(Error::Validation(Invalid::HashKeyTooLarge));
    }
    if range > RANGE_KEY_BYTES_MAX {
        return Err(Error::Validation(Invalid::RangeKeyTooLarge));
    }
    Ok(())
}

/// The storage key of a whole item, validating its key attributes.
pub(crate) fn item_storage_key(def: &TableDef, item: &Item) -> Result<Vec<u8>> {
    let ks = &def.key_schema;
    let get = |attr: &KeyAttr| {
        item.get(&attr.name).ok_or_else(|| {
            Error::Validation(Invalid::MissingKey {
                attr: attr.name.clone(),
            })
        })
    };
    let pk = get(&ks.hash)?;
    let hash_size = check_key_value(&ks.hash, pk, true)?;
    let (sk, range_size) = match &ks.range {
        Some(r) => {
            let sk = get(r)?;
            (Some(sk), check_key_value(r, sk, true)?)
        }
        None => (None, 0),
    };
    check_key_sizes(hash_size, range_size)?;
    Ok(keys::item_key(def.id, pk, sk))
}

/// The storage key named by a `Key` parameter, which must hold exactly the
/// key attributes.
pub(crate) fn key_storage_key(def: &TableDef, key: &Item) -> Result<Vec<u8>> {
    let ks = &def.key_schema;
    let mismatch = || Error::Validation(Invalid::KeySchemaMismatch);
    let expected = 1 + usize::from(ks.range.is_some());
    if key.len() != expected {
        return Err(mismatch());
    }
    let pk = key.get(&ks.hash.name).ok_or_else(mismatch)?;
    let hash_size = check_key_value(&ks.hash, pk, false)?;
    let (sk, range_size) = match &ks.range {
        Some(r) => {
            let sk = key.get(&r.name).ok_or_else(mismatch)?;
            (Some(sk), check_key_value(r, sk, false)?)
        }
        None => (None, 0),
    };
    check_key_sizes(hash_size, range_size)?;
    Ok(keys::item_key(def.id, pk, sk))
}
