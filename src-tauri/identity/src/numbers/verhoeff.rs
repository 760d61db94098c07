//! The Verhoeff check-digit algorithm, used by the last digit of every Aadhaar number.
//! It catches all single-digit errors and all swaps of adjacent digits, the two commonest
//! mistakes when a number is typed or read aloud at the counter.

/// Multiplication table of the dihedral group D5.
const D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

/// Position-dependent permutation table.
const P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Inverse table.
const INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

/// Runs the Verhoeff checksum over ASCII digits, treating the sequence as already
/// shifted by `offset` positions. `None` if a byte is not an ASCII digit.
fn checksum(digits: &[u8], offset: usize) -> Option<u8> {
    let mut c: u8 = 0;
    for (i, b) in digits.iter().rev().enumerate() {
        let d = digit(*b)?;
        let p = P[(i + offset) % 8][usize::from(d)];
        c = D[usize::from(c)][usize::from(p)];
    }
    Some(c)
}

fn digit(b: u8) -> Option<u8> {
    b.is_ascii_digit().then(|| b - b'0')
}

/// The Verhoeff check digit (0–9) to append to `payload` (ASCII digits).
/// `None` if `payload` holds a non-digit.
pub fn check_digit(payload: &str) -> Option<u8> {
    let c = checksum(payload.as_bytes(), 1)?;
    Some(INV[usize::from(c)])
}

/// Whether `digits` (ASCII digits, check digit last) passes the Verhoeff check.
/// Empty or non-digit input is never valid.
pub fn is_valid(digits: &str) -> bool {
    !digits.is_empty() && checksum(digits.as_bytes(), 0) == Some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        for ok in ["234567890124", "498765432102", "876543210988", "2363"] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in ["234567890125", "234657890124", "", "12a4"] {
            assert!(!is_valid(bad), "{bad}");
        }
        assert_eq!(check_digit("23456789012"), Some(4));
        assert_eq!(check_digit("236"), Some(3));
        assert_eq!(check_digit("2x"), None);
    }

    #[test]
    fn tables_are_consistent() {
        // Each row of P is the previous row permuted by P[1].
        for i in 1..8 {
            for x in 0..10 {
                assert_eq!(P[i][x], P[1][usize::from(P[i - 1][x])]);
            }
        }
        // INV[j] is the inverse of j in D5.
        for j in 0..10 {
            assert_eq!(D[j][usize::from(INV[j])], 0);
        }
    }
}
