/** A synthetic citizen, as the demo population database holds them (no real person). */
export interface Citizen {
  readonly personalId: string;
  readonly fullName: string;
  readonly birthDate: string;
  readonly gender: "male" | "female";
  readonly province: string;
  readonly ethnicity: string;
}

const FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"];
const MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Đức", "Thanh"];
const GIVEN = [
  "An",
  "Bình",
  "Châu",
  "Dũng",
  "Giang",
  "Hà",
  "Khánh",
  "Lan",
  "Mai",
  "Nam",
  "Phương",
  "Quân",
  "Thảo",
  "Tuấn",
];
const PROVINCES = ["01", "31", "48", "79", "92"]; // Hà Nội, Hải Phòng, Đà Nẵng, TP. Hồ Chí Minh, Cần Thơ

/** `count` deterministic synthetic citizens: the same seed gives the same people. */
export function syntheticPopulation(count: number, seed = 1): Citizen[] {
  return [...syntheticCitizens(count, seed)];
}

/** The same citizens one at a time, for populations too large to hold at once. */
export function* syntheticCitizens(count: number, seed = 1): Generator<Citizen> {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  const pick = <T>(list: readonly T[]): T => list[next() % list.length] as T;
  for (let index = 0; index < count; index++) {
    const province = pick(PROVINCES);
    const gender = next() % 2 === 0 ? "male" : "female";
    const year = 1950 + (next() % 55);
    const month = String(1 + (next() % 12)).padStart(2, "0");
    const day = String(1 + (next() % 28)).padStart(2, "0");
    yield {
      personalId: `0${province}${gender === "male" ? "0" : "1"}${String(year).slice(2)}${String(index).padStart(6, "0")}`,
      fullName: `${pick(FAMILY)} ${gender === "female" ? "Thị" : pick(MIDDLE)} ${pick(GIVEN)}`,
      birthDate: `${year}-${month}-${day}`,
      gender,
      province,
      ethnicity: "Kinh",
    };
  }
}
